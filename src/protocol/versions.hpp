#pragma once
// MCP protocol versions this server speaks, newest first, and how it negotiates.
#include <array>
#include <string_view>

namespace frontmcp::protocol {

inline constexpr std::string_view kLatestVersion = "2025-11-25";
inline constexpr std::array<std::string_view, 4> kSupportedVersions = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                                       "2024-11-05"};
/// Assumed when a Streamable HTTP request has no MCP-Protocol-Version header
/// (the 2025-06-18 spec's rule for backwards compatibility).
inline constexpr std::string_view kAssumedVersionWithoutHeader = "2025-03-26";

bool is_supported_version(std::string_view v) noexcept;
/// The version to answer initialize with: the client's if we speak it, else our latest.
std::string_view negotiate_version(std::string_view requested) noexcept;
/// True when `v` (a supported version) forbids JSON-RPC batches (2025-06-18 and later).
bool forbids_batches(std::string_view v) noexcept;

}  // namespace frontmcp::protocol
