// Small definitions of the public headers: log levels, result access, modes.
#include <array>
#include <cctype>
#include <frontmcp/log_level.hpp>
#include <frontmcp/options.hpp>
#include <frontmcp/result.hpp>
#include <stdexcept>

namespace frontmcp {

namespace {
constexpr std::array<std::string_view, 8> kLevelNames = {"debug", "info",     "notice", "warning",
                                                         "error", "critical", "alert",  "emergency"};
}

std::string_view to_string(LogLevel level) noexcept {
  return kLevelNames[static_cast<std::size_t>(level)];
}

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

void throw_bad_result_access(const Error& e) {
  throw std::logic_error("Result::value() on an error: " + e.message);
}

void throw_bad_result_access() {
  throw std::logic_error("Result::value() on an error");
}

std::string_view to_string(DeploymentMode mode) noexcept {
  switch (mode) {
    case DeploymentMode::standalone:
      return "standalone";
    case DeploymentMode::distributed:
      return "distributed";
    case DeploymentMode::serverless:
      return "serverless";
  }
  return "standalone";
}

}  // namespace frontmcp

namespace frontmcp {

std::string_view AuthRequest::bearer_token() const {
  auto v = header("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (v.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(v[i])) != kScheme[i]) return {};
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

}  // namespace frontmcp
