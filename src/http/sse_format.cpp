#include "http/sse_format.hpp"

namespace frontmcp::http::sse {

void append_event(std::string& out, std::string_view id, std::string_view event, std::string_view data) {
  if (!id.empty()) {
    out += "id: ";
    out += id;
    out += '\n';
  }
  if (!event.empty()) {
    out += "event: ";
    out += event;
    out += '\n';
  }
  // An empty data field still dispatches the event (priming events rely on it).
  std::size_t start = 0;
  for (;;) {
    std::size_t br = data.find_first_of("\r\n", start);
    out += "data: ";
    out += data.substr(start, br == std::string_view::npos ? std::string_view::npos : br - start);
    out += '\n';
    if (br == std::string_view::npos) break;
    start = br + ((data[br] == '\r' && br + 1 < data.size() && data[br + 1] == '\n') ? 2 : 1);
  }
  out += '\n';
}

void append_comment(std::string& out, std::string_view text) {
  out += ": ";
  out += text;
  out += "\n\n";
}

void append_retry(std::string& out, long long ms) {
  out += "retry: ";
  out += std::to_string(ms);
  out += '\n';
}

}  // namespace frontmcp::http::sse
