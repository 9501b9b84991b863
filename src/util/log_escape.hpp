#pragma once
// Escaping of logged values. Much of what the server logs comes from clients (paths,
// query strings, headers, session ids, method names, error messages): written as is, a
// line break forges a log line and an ESC byte drives the operator's terminal. The
// formatters of util/log.cpp run every message through these functions, so no call site
// can forget. Pure functions, callable from any thread.
#include <cstddef>
#include <string>
#include <string_view>

namespace frontmcp::util {

/// Decodes the UTF-8 sequence that starts at s[i]: its length (1 to 4) and code point, or
/// 0 when s[i] does not start a valid, shortest-form, non-surrogate sequence.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) noexcept;

/// Whether `cp` is escaped in logs: C0 controls, DEL, C1 controls, U+2028/U+2029 (line
/// breaks to some viewers).
constexpr bool log_unsafe(char32_t cp) noexcept {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

/// Whether escape_log_text(s) would differ from s.
bool needs_log_escape(std::string_view s) noexcept;

/// `s` for a text log line: valid UTF-8 is kept, except that \n, \r and \t become those
/// two-character spellings, other C0 controls and DEL become \xNN, C1 controls and
/// U+2028/U+2029 become \uNNNN, and every byte that is not part of valid UTF-8 becomes
/// \xNN. The result is one line of printable text. Backslashes are kept as they are.
std::string escape_log_text(std::string_view s);

/// Appends `s` as a JSON string (with its quotes) that is valid JSON for any input:
/// `"` and `\` escaped, controls, DEL, C1 and U+2028/U+2029 as \uNNNN (\n, \r, \t
/// short), and a byte that is not valid UTF-8 as the six characters `\\xNN` (so the
/// decoded value reads `\xNN`, as in text logs).
void append_json_string(std::string& out, std::string_view s);

/// Appends `key=value` (with a leading space) for a text log line: the value in double
/// quotes (with `"` and `\` escaped) when it is empty or holds a space, `"` or `=`, so a
/// value cannot pose as another field.
void append_log_field(std::string& out, std::string_view key, std::string_view value);

}  // namespace frontmcp::util
