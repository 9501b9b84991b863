#pragma once
// The core's cryptography: HMAC-SHA256, SHA-256 and base64url, from OpenSSL's libcrypto
// (never libssl: the core speaks no TLS). Used to integrity-protect state that a client
// carries between requests (protocol/mrtr.hpp). Thread-safety: all members, any thread.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace frontmcp::util {

inline constexpr std::size_t kSha256Bytes = 32;
using Digest = std::array<unsigned char, kSha256Bytes>;

/// SHA-256 of `data`.
Digest sha256(std::string_view data);

/// An HMAC-SHA256 key, set up once; mac() works on a copy, so concurrent use is safe.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);  // throws std::runtime_error if OpenSSL fails
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  /// The MAC of the concatenation of `parts`.
  Digest mac(std::initializer_list<std::string_view> parts) const;

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

/// Compares in time independent of where the inputs differ.
bool equal_constant_time(const Digest& a, const Digest& b) noexcept;

/// `n` bytes from OpenSSL's CSPRNG (throws std::runtime_error if it has no entropy).
std::string random_bytes(std::size_t n);

/// RFC 4648 §5 base64url without padding, and its strict inverse (nullopt for anything
/// else: padding, other alphabets, non-canonical trailing bits).
std::string base64url_encode(std::string_view data);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace frontmcp::util
