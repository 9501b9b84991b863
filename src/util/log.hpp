#pragma once
// The library's logger: spdlog logger "frontmcp" (stderr unless the application
// registered its own logger of that name first). stdout stays free for the protocol.
#include <spdlog/logger.h>

namespace frontmcp::util {
spdlog::logger& log();
}  // namespace frontmcp::util
