#pragma once
// The library's logger: spdlog logger "frontmcp" (stderr unless the application
// registered its own logger of that name first). stdout stays free for the protocol.
#include <spdlog/logger.h>

#include <exception>

namespace frontmcp::util {
spdlog::logger& log();

/// Logs (at error) an exception that escaped a detached coroutine; nothing for nullptr.
void log_escaped(std::exception_ptr e, const char* what);

/// A co_spawn completion handler that does so: co_spawn(ex, task(), LogEscaped{"..."}).
struct LogEscaped {
  const char* what;  // a string literal naming the task
  void operator()(std::exception_ptr e) const { log_escaped(e, what); }
};
}  // namespace frontmcp::util
