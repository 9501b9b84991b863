#include "util/ids.hpp"

#include <sys/random.h>

#include <cstdint>
#include <stdexcept>

namespace frontmcp::util {

std::string random_hex_id() {
  // Session ids are bearer secrets: take them from the kernel's CSPRNG, not a PRNG.
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) throw std::runtime_error("getrandom failed");
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (std::size_t i = 0; i < sizeof bytes; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace frontmcp::util
