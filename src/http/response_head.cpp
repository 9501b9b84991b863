#include "http/response_head.hpp"

#include <boost/beast/http/status.hpp>

#include "util/decimal.hpp"
#include "util/log.hpp"

namespace frontmcp::http {

namespace {

// RFC 9110 §5.6.2 tchar.
bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool is_field_value(std::string_view s) noexcept {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

bool status_forbids_body(int status) noexcept {
  return status < 200 || status == 204 || status == 304;
}

void append_response_head(std::string& out, const ResponseHead& head, std::span<const Headers* const> extra) {
  out += head.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  util::append_decimal(out, static_cast<std::uint64_t>(head.status));
  out += ' ';
  auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(head.status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  if (!head.content_type.empty()) append_field(out, "Content-Type", head.content_type);
  for (const Headers* list : extra) {
    for (const auto& [name, value] : *list) {
      if (!is_token(name) || !is_field_value(value)) {
        util::log().error("response header '{}' left out: not a valid HTTP field", name);
        continue;
      }
      append_field(out, name, value);
    }
  }
  // HTTP/1.1 keeps the connection by default, HTTP/1.0 closes it by default.
  if (head.version == 10 && head.keep_alive) out += "Connection: keep-alive\r\n";
  if (head.version != 10 && !head.keep_alive) out += "Connection: close\r\n";
  if (head.chunked) out += "Transfer-Encoding: chunked\r\n";
  if (head.content_length && !status_forbids_body(head.status)) {
    out += "Content-Length: ";
    util::append_decimal(out, *head.content_length);
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace frontmcp::http
