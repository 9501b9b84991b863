#pragma once
// The status line and header block of an HTTP/1.x response, written by hand into one
// string: cheaper than Beast's fields + serializer on the hot path (no allocation per
// header, one buffer to send). Light: no Beast/Asio templates here.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace frontmcp::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct ResponseHead {
  int status = 200;
  unsigned version = 11;  // 10 or 11, as Beast counts
  bool keep_alive = true;
  std::string_view content_type;              // left out when empty
  std::optional<std::size_t> content_length;  // left out when empty
  bool chunked = false;                       // Transfer-Encoding: chunked
};

/// True for the statuses whose responses never have a body (1xx, 204, 304): no
/// Content-Length either (RFC 9110 §8.6).
bool status_forbids_body(int status) noexcept;

/// Appends the status line, the fields of `head`, every field of `extra`, and the blank
/// line that ends the header block. A field that would break the message (a name that is
/// not a token, a value with CR, LF or NUL) is left out and logged: it is a bug in the
/// caller (client input never reaches here unvalidated).
void append_response_head(std::string& out, const ResponseHead& head, std::span<const Headers* const> extra);

}  // namespace frontmcp::http
