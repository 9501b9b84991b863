#pragma once
// Appending an unsigned integer in decimal to a string, without a temporary string
// (HTTP heads, RESP commands, Prometheus text).
#include <charconv>
#include <cstdint>
#include <string>

namespace frontmcp::util {

inline void append_decimal(std::string& out, std::uint64_t n) {
  char digits[24];  // 20 digits hold any uint64_t
  auto r = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, r.ptr);
}

}  // namespace frontmcp::util
