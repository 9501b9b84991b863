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

}  // namespace frontmcp::util
