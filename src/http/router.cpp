// The Site's router (router.hpp): access checks (DNS rebinding, CORS, the authorization
// hook, draining), the probes, and the path → handler lookup of one request.
#include "http/router.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include "http/http_server.hpp"
#include "protocol/jsonrpc.hpp"
#include "util/log.hpp"

namespace frontmcp::http {

bool is_loopback_host(std::string_view host) {
  // Exact forms only: a prefix test would let "127.0.0.1.evil.example" through.
  constexpr std::string_view kLocalhost = "localhost";
  if (host.size() == kLocalhost.size() && std::equal(host.begin(), host.end(), kLocalhost.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      })) {
    return true;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string h(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

namespace {

using bhttp::status;

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

/// "host:port" / "[v6]:port" -> host (brackets kept for v6); nullopt when the port is
/// not a number (such a header is rejected, not guessed at).
std::optional<std::string_view> strip_port(std::string_view host) {
  std::size_t colon;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    if (close + 1 == host.size()) return host;
    if (host[close + 1] != ':') return std::nullopt;
    colon = close + 1;
  } else {
    colon = host.find(':');
    if (colon == std::string_view::npos) return host;
  }
  auto port = host.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return host.substr(0, colon);
}

bool host_allowed(const Site& site, std::string_view host_header) {
  auto parsed = strip_port(host_header);
  if (!parsed) return false;
  auto host = *parsed;
  if (is_loopback_host(host)) return true;
  const auto& allowed = site.options.allowed_hosts;
  return std::find(allowed.begin(), allowed.end(), host) != allowed.end();
}

bool origin_allowed(const Site& site, std::string_view origin) {
  const auto& allowed = site.options.allowed_origins;
  if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) return true;
  // Only a web page's own origin: chrome-extension://localhost or ws://127.0.0.1 is not
  // a loopback page (browsers serialize the scheme in lower case).
  std::string_view rest;
  if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else {
    return false;
  }
  auto host = strip_port(rest);
  return host && is_loopback_host(*host);
}

bool cors_allows(const Site& site, std::string_view origin) {
  for (const auto& o : site.options.cors_allowed_origins) {
    if (o == "*" || o == origin) return true;
  }
  return false;
}

/// The request headers a browser page may send (a CORS preflight's answer), besides the
/// Mcp-Param-* ones (allowed_headers).
constexpr std::string_view kAllowedHeaders =
    "Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name";
constexpr std::string_view kParamHeaderPrefix = "mcp-param-";

bool is_token(std::string_view s) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSpecials.find(c) != std::string_view::npos;
  });
}

/// Access-Control-Allow-Headers: the fixed list, plus each Mcp-Param-{Name} header that
/// Access-Control-Request-Headers names (MCP 2026-07-28: a tool's x-mcp-header arguments
/// travel in such headers; their names are the tools', and the field has no wildcard
/// pattern). Any other header the page asks for stays refused.
std::string allowed_headers(std::string_view requested) {
  std::string out(kAllowedHeaders);
  while (!requested.empty()) {
    auto comma = requested.find(',');
    auto name = requested.substr(0, comma);
    requested = comma == std::string_view::npos ? std::string_view() : requested.substr(comma + 1);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    bool param = name.size() > kParamHeaderPrefix.size() &&
                 std::equal(kParamHeaderPrefix.begin(), kParamHeaderPrefix.end(), name.begin(),
                            [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
    if (param && is_token(name)) {
      out += ", ";
      out += name;
    }
  }
  return out;
}

struct Denied {
  std::string message;
  Headers headers;
};

std::string_view lookup_header(const void* req, std::string_view name) {
  return header(*static_cast<const Request*>(req), name);
}

/// Runs HttpOptions::authorize; nullopt = allowed.
std::optional<Denied> authorize(Exchange& ex, std::string_view path) {
  AuthRequest ar;
  std::string method(ex.req.method_string());
  ar.method = method;
  ar.path = path;
  std::string remote = ex.peer.is_unspecified() ? std::string() : ex.peer.to_string();
  ar.remote_address = remote;
  ar.session_id = header(ex.req, "Mcp-Session-Id");
  std::string query_sid;
  if (ar.session_id.empty() && path == ex.site.options.message_path) {
    query_sid = query_param(ex.req, "sessionId");
    ar.session_id = query_sid;
  }
  ar.lookup = &lookup_header;
  ar.context = &ex.req;
  AuthDecision d;
  try {
    d = ex.site.options.authorize(ar);
  } catch (const std::exception& e) {
    util::log().error("authorization hook threw: {}", e.what());
    d = AuthDecision::deny("Bearer", "Unauthorized: authorization failed");
  } catch (...) {
    util::log().error("authorization hook threw a non-exception");
    d = AuthDecision::deny("Bearer", "Unauthorized: authorization failed");
  }
  if (d.allowed) {
    ex.principal = std::move(d.principal);
    return std::nullopt;
  }
  util::log_event(
      spdlog::level::info, "request rejected by the authorization hook",
      {{"method", ar.method}, {"path", ar.path}, {"remote", ar.remote_address}, {"session", ar.session_id}});
  Denied out{d.message.empty() ? std::string("Unauthorized") : d.message, {}};
  out.headers.emplace_back("WWW-Authenticate", d.www_authenticate.empty() ? std::string("Bearer") : d.www_authenticate);
  return out;
}

/// HttpOptions::request_rate: a 429 with Retry-After (whole seconds) when the request's
/// principal (or address) has no token left.
std::optional<Reply> check_request_rate(const Exchange& ex) {
  const auto& limiter = ex.site.request_limiter;
  if (!limiter) return std::nullopt;
  const auto& limit = ex.site.options.request_rate;
  auto d = limiter->take(client_key(ex), limit);
  if (d.allowed) return std::nullopt;
  ex.site.metrics.refused_by(metrics::RateLimited::request);
  // Logged once a second at most (a flood is what this answers); the rest at debug.
  static util::LogThrottle throttle(std::chrono::seconds(1));
  std::string who = ex.principal.empty() ? ex.peer.to_string() : ex.principal;
  util::log_event(throttle.allow() ? spdlog::level::warn : spdlog::level::debug,
                  "request rate limit exceeded: answered 429",
                  {{ex.principal.empty() ? std::string_view("remote") : std::string_view("principal"), who}});
  return error_reply(status::too_many_requests, errc::kServerError,
                     "Too Many Requests: rate limit exceeded: " + util::describe(limit, "requests") +
                         " per client; retry after " + util::seconds_text(d.retry_after) + " s",
                     header_list("Retry-After", std::to_string(util::retry_after_seconds(d.retry_after))));
}

/// DNS-rebinding protection: a browser page on another site may reach a loopback server,
/// but it cannot forge Host and always sends its own Origin. A 403 when either is refused.
std::optional<Reply> check_rebinding(const Exchange& ex) {
  auto host = header(ex.req, "Host");
  if (!host_allowed(ex.site, host)) {
    util::log().warn("rejected request with Host '{}' (DNS-rebinding protection)", host);
    return error_reply(status::forbidden, errc::kServerError, "Forbidden: Host not allowed");
  }
  auto origin = header(ex.req, "Origin");
  if (!origin.empty() && !origin_allowed(ex.site, origin)) {
    util::log().warn("rejected request with Origin '{}' (DNS-rebinding protection)", origin);
    return error_reply(status::forbidden, errc::kServerError, "Forbidden: Origin not allowed");
  }
  return std::nullopt;
}

/// Everything route() decides without I/O: the reply to write (health, metrics, CORS
/// preflight, rejections), or else the transport that serves the request.
std::optional<Reply> plan_route(Exchange& ex, const Site::Handler*& handler) {
  const auto& site = ex.site;
  const auto& opt = site.options;
  std::string_view target(ex.req.target().data(), ex.req.target().size());
  auto path = path_of(target);
  // E.g. distributed mode: every response names the node (load balancers and operators).
  for (const auto& h : site.response_headers) ex.headers.push_back(h);

  const bool probe =
      path == opt.healthz_path || path == opt.readyz_path || (path == opt.metrics_path && !opt.metrics_path.empty());
  if (probe && site.probes_host_checked) {
    if (auto denied = check_rebinding(ex)) return denied;
  }
  if (path == opt.healthz_path) return Reply{status::ok, R"({"status":"ok"})", "application/json", {}};
  if (path == opt.readyz_path) {
    auto [ready, body] = site.readiness();
    return Reply{ready ? status::ok : status::service_unavailable, std::move(body), "application/json", {}};
  }
  if (path == opt.metrics_path && !opt.metrics_path.empty()) {
    if (ex.req.method() != bhttp::verb::get) {
      return error_reply(status::method_not_allowed, errc::kServerError, "Method Not Allowed",
                         header_list("Allow", "GET"));
    }
    return Reply{status::ok, site.metrics_text(), "text/plain; version=0.0.4; charset=utf-8", {}};
  }
  for (const auto& [route_path, h] : site.routes) {
    if (route_path == path) handler = &h;
  }
  if (!handler) return error_reply(status::not_found, errc::kServerError, "Not Found");

  auto origin = header(ex.req, "Origin");
  if (site.dns_rebinding_protection) {
    if (auto denied = check_rebinding(ex)) return denied;
  }
  if (!origin.empty() && cors_allows(site, origin)) {
    ex.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    ex.headers.emplace_back("Vary", "Origin");
    ex.headers.emplace_back("Access-Control-Expose-Headers", "Mcp-Session-Id, X-FrontMCP-Machine-Id");
    if (ex.req.method() == bhttp::verb::options) {
      Headers preflight = header_list("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      preflight.emplace_back("Access-Control-Allow-Headers",
                             allowed_headers(header(ex.req, "Access-Control-Request-Headers")));
      preflight.emplace_back("Vary", "Access-Control-Request-Headers");  // the answer depends on it
      preflight.emplace_back("Access-Control-Max-Age", "600");
      return Reply{status::no_content, {}, {}, std::move(preflight)};
    }
  }
  if (opt.authorize) {
    if (auto denied = authorize(ex, path)) {
      return error_reply(status::unauthorized, errc::kServerError, denied->message, std::move(denied->headers));
    }
  }
  // After the hook, which names the principal; before the body is parsed as JSON.
  if (auto limited = check_request_rate(ex)) return limited;
  // Distributed mode keeps answering requests that still arrive on open connections
  // while draining (the sessions live in Redis, so any node may serve them); standalone
  // mode cannot hand them anywhere.
  if (site.draining.load() && !site.serves_while_draining) {
    return error_reply(status::service_unavailable, errc::kServerError, "Service Unavailable: server is shutting down",
                       header_list("Retry-After", "1"));
  }
  return std::nullopt;
}

}  // namespace

/// The key of HttpOptions::request_rate: the principal, or for the anonymous principal ""
/// the client's address (behind HttpOptions::trusted_proxies, from X-Forwarded-For); an
/// IPv6 address counts as its /64 (one host or one home network usually has a whole /64,
/// so its addresses are one client). "p:" and "a:" keep a principal that looks like an
/// address apart from the address.
std::string client_key(const Exchange& ex) {
  if (!ex.principal.empty()) return "p:" + ex.principal;
  if (ex.peer.is_unspecified()) return "a:";  // gone already: its answer will not be read anyway
  auto address = ex.peer;
  if (!ex.site.trusted_proxies.empty() && ex.site.trusted_proxies.contains(address)) {
    std::string forwarded;
    auto [first, last] = ex.req.equal_range("X-Forwarded-For");
    for (auto f = first; f != last; ++f) {
      if (!forwarded.empty()) forwarded += ',';
      forwarded.append(f->value().data(), f->value().size());
    }
    address = client_address(address, forwarded, ex.site.trusted_proxies);
  }
  return address_key(address);
}

net::awaitable<Answer> route(Exchange& ex) {
  const Site::Handler* handler = nullptr;
  if (std::optional<Reply> reply = plan_route(ex, handler)) co_return Answer::of(std::move(*reply));
  ex.site.counters.requests.fetch_add(1, std::memory_order_relaxed);
  co_return co_await (*handler)(ex);
}

}  // namespace frontmcp::http
