#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace frontmcp::util {

spdlog::logger& log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("frontmcp")) return existing;
    return spdlog::stderr_color_mt("frontmcp");
  }();
  return *logger;
}

void log_escaped(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log().error("{} failed: {}", what, ex.what());
  } catch (...) {
    log().error("{} failed with a non-standard exception", what);
  }
}

}  // namespace frontmcp::util
