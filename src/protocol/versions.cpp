#include "protocol/versions.hpp"

namespace frontmcp::protocol {

bool is_supported_version(std::string_view v) noexcept {
  for (auto s : kSupportedVersions)
    if (s == v) return true;
  return false;
}

std::string_view negotiate_version(std::string_view requested) noexcept {
  for (auto s : kSupportedVersions)
    if (s == requested) return s;
  return kLatestVersion;
}

bool forbids_batches(std::string_view v) noexcept {
  // ISO dates compare correctly as strings.
  return v >= std::string_view("2025-06-18");
}

}  // namespace frontmcp::protocol
