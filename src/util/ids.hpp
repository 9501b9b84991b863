#pragma once
#include <string>

namespace frontmcp::util {
/// 128 random bits as 32 lowercase hex characters (session ids, node ids). Thread-safe.
std::string random_hex_id();
}  // namespace frontmcp::util
