#include "util/log_escape.hpp"

namespace frontmcp::util {

namespace {

constexpr char kHex[] = "0123456789abcdef";

bool continuation(unsigned char c) noexcept {
  return (c & 0xc0) == 0x80;
}

void append_hex_byte(std::string& out, std::string_view prefix, unsigned char b) {
  out += prefix;
  out += kHex[b >> 4];
  out += kHex[b & 0xf];
}

void append_u_escape(std::string& out, char32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xf];
}

/// The short spelling of a control character, or nullptr.
const char* short_escape(char32_t cp) noexcept {
  switch (cp) {
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return nullptr;
  }
}

}  // namespace

std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) noexcept {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = at(i);
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (b >= 0xc2 && b <= 0xdf) {
    len = 2;
    cp = b & 0x1f;
  } else if (b >= 0xe0 && b <= 0xef) {
    len = 3;
    cp = b & 0x0f;
    if (b == 0xe0) lo = 0xa0;  // overlong
    if (b == 0xed) hi = 0x9f;  // surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    len = 4;
    cp = b & 0x07;
    if (b == 0xf0) lo = 0x90;  // overlong
    if (b == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
  }
  if (i + len > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if (!continuation(at(i + k))) return 0;
    cp = (cp << 6) | (at(i + k) & 0x3f);
  }
  return len;
}

bool needs_log_escape(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp;
    std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0 || log_unsafe(cp)) return true;
    i += n;
  }
  return false;
}

std::string escape_log_text(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp;
    std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      append_hex_byte(out, "\\x", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (!log_unsafe(cp)) {
      out.append(s.substr(i, n));
    } else if (const char* e = short_escape(cp)) {
      out += e;
    } else if (cp < 0x80) {
      append_hex_byte(out, "\\x", static_cast<unsigned char>(cp));
    } else {
      append_u_escape(out, cp);
    }
    i += n;
  }
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp;
    std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      append_hex_byte(out, "\\\\x", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (!log_unsafe(cp)) {
      out.append(s.substr(i, n));
    } else if (const char* e = short_escape(cp)) {
      out += e;
    } else {
      append_u_escape(out, cp);
    }
    i += n;
  }
  out += '"';
}

void append_log_field(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  if (!value.empty() && value.find_first_of(" \"=") == std::string_view::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace frontmcp::util
