#pragma once
// The reference server's static bearer tokens (--auth-token-file, authTokenFile,
// FRONTMCP_AUTH_TOKEN) and the authorization hook that checks them. Pure functions; the
// hook may be called from any thread.
#include <frontmcp/options.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp_server {

/// One accepted token and the principal it authenticates (docs/security.md).
struct AuthToken {
  std::string token;
  /// "" for a bare token: every bare token shares the anonymous principal (a file with one
  /// bare token behaves as before principals existed).
  std::string principal;
  bool operator==(const AuthToken&) const = default;
};

/// A token file that cannot be used; the message names the line, never a token.
struct TokenFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Parses a token file's content: one `TOKEN [PRINCIPAL]` per line (separated by spaces or
/// tabs); blank lines and lines starting with `#` are skipped; a trailing `\r` and
/// surrounding blanks are ignored. Throws TokenFileError when there is no token, a line
/// has more than two fields, or a token appears twice.
std::vector<AuthToken> parse_token_file(std::string_view content);

/// Compares in time that depends only on `expected`'s length (no early exit on the first
/// differing byte).
bool constant_time_equal(std::string_view expected, std::string_view given) noexcept;

/// The authorization hook: `Authorization: Bearer <token>` must match one of `tokens`
/// (each compared in constant time; all are compared), and the request is allowed as that
/// token's principal; else 401 with an RFC 6750 challenge.
std::function<frontmcp::AuthDecision(const frontmcp::AuthRequest&)> bearer_check(std::vector<AuthToken> tokens);

}  // namespace frontmcp_server
