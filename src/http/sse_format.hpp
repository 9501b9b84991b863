#pragma once
// SSE wire format (WHATWG HTML "server-sent events"): pure functions, no I/O.
#include <string>
#include <string_view>

namespace frontmcp::http::sse {

/// Appends one event. `data` may contain line breaks (\n, \r\n or \r): each line becomes
/// its own "data:" field, as the format requires. `id` and `event` must not contain
/// line breaks (they are ours, never the client's); empty ones are left out.
void append_event(std::string& out, std::string_view id, std::string_view event, std::string_view data);
/// ": text\n\n" — ignored by clients, keeps proxies from timing the stream out.
void append_comment(std::string& out, std::string_view text);
/// "retry: ms\n" — the reconnection delay hint (a field of the next event).
void append_retry(std::string& out, long long ms);

}  // namespace frontmcp::http::sse
