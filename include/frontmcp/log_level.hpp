#pragma once
#include <optional>
#include <string_view>

namespace frontmcp {

/// RFC 5424 severities, as MCP's logging/setLevel uses them (lowest first).
enum class LogLevel { debug, info, notice, warning, error, critical, alert, emergency };

std::string_view to_string(LogLevel level) noexcept;
std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;

}  // namespace frontmcp
