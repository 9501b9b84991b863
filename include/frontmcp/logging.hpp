#pragma once
// Logging set-up for applications: the library logs through the spdlog logger named
// "frontmcp" (to stderr). configure_logging() creates it with a level and a format.
#include <string_view>

namespace frontmcp {

enum class LogFormat {
  text,  ///< spdlog's default pattern; structured fields appended as key=value
  json,  ///< one JSON object per line: ts, level, node, msg and the structured fields
};

/// Replaces the "frontmcp" logger (stderr) with one of this format and level ("trace",
/// "debug", "info", "warn", "error", "critical", "off"). Call before creating a Server.
void configure_logging(LogFormat format, std::string_view level);

}  // namespace frontmcp
