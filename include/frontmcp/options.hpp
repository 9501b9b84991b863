#pragma once
// Every tunable of the server, with its default. Limits are named here, in one place.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp {

enum class DeploymentMode { standalone, distributed, serverless };

/// How a POST that carries requests is answered.
enum class ResponseMode {
  /// JSON when the handlers produce only their results; an SSE stream as soon as a
  /// handler sends anything else first (progress, logging, a server->client request).
  automatic,
  sse,   ///< always an SSE stream
  json,  ///< always JSON; other messages go to the session's GET stream
};

struct ServerInfo {
  std::string name = "frontmcp-server";
  std::string title;
  std::string version = "0.1.0";
  std::string instructions;
};

/// What an authorization hook (HttpOptions::authorize) sees of a request.
struct AuthRequest {
  std::string_view method;          ///< "POST", "GET", "DELETE"
  std::string_view path;            ///< "/mcp", "/sse", "/message"
  std::string_view remote_address;  ///< peer IP (the proxy's, behind one)
  std::string_view session_id;      ///< Mcp-Session-Id, or the sessionId of POST /message ("" if none)
  /// A request header by name ("" when absent).
  std::string_view header(std::string_view name) const { return lookup ? lookup(context, name) : std::string_view(); }
  /// The token of an `Authorization: Bearer <token>` header ("" when there is none).
  std::string_view bearer_token() const;

  // Set by the server.
  std::string_view (*lookup)(const void* context, std::string_view name) = nullptr;
  const void* context = nullptr;
};

/// The hook's verdict: allow (as a principal), or reject with 401 and a
/// `WWW-Authenticate` challenge.
struct AuthDecision {
  bool allowed = true;
  /// The WWW-Authenticate value of the 401, e.g. `Bearer realm="mcp", error="invalid_token"`
  /// (MCP's authorization spec adds `resource_metadata="<url>"`).
  std::string www_authenticate;
  std::string message = "Unauthorized";
  /// Who the request is from (allowed requests): a user id, a token's subject (`sub`),
  /// never the token itself (it is stored with the session, in Redis too). A session is
  /// bound to the principal whose request created it; the same session id presented with
  /// another principal is answered 404 like an unknown session (docs/security.md). ""
  /// (the default) is a principal too: every caller allowed without one shares it.
  std::string principal;

  /// Allowed, as `principal` ("" = anonymous; see `principal`).
  static AuthDecision allow(std::string principal = {}) {
    AuthDecision d;
    d.principal = std::move(principal);
    return d;
  }
  static AuthDecision deny(std::string challenge, std::string message = "Unauthorized") {
    return {false, std::move(challenge), std::move(message), {}};
  }
};

/// Lingering close (RFC 9112 §9.6): after an error answered before the request's body was
/// read (413, 431, 400 for a malformed request), the server shuts down its sending side and
/// reads and discards what the client still sends, so that the client reads the answer
/// instead of a connection reset; it closes when the client closes, after
/// kLingeringCloseIdle without data, after kLingeringCloseTime in all, or after
/// kLingeringCloseMaxBytes, whichever comes first (each time to within the 0.5 s of the
/// connection reaper). nginx's lingering_time / lingering_timeout are 30 s / 5 s; ours are
/// shorter because the connection holds a slot of max_connections meanwhile, and a client on
/// a working link has read its answer long before. 16 MiB is four times the default body
/// limit: a client that overshot the limit by that much still reads its 413.
inline constexpr std::chrono::milliseconds kLingeringCloseTime{2'000};
inline constexpr std::chrono::milliseconds kLingeringCloseIdle{1'000};
inline constexpr std::size_t kLingeringCloseMaxBytes = 16 * 1024 * 1024;

/// A token bucket (docs/configuration.md "Rate limits"): each counted event takes a
/// token; tokens come back at `per_second` (fractions allowed), and at most `burst` are
/// kept, so `burst` events may come at once after a pause. per_second 0 = no limit.
struct RateLimit {
  double per_second = 0;
  /// 0: max(1, ceil(per_second)).
  std::uint32_t burst = 0;
  bool enabled() const noexcept { return per_second > 0; }
};

/// Buckets one rate limiter keeps at most (each ~150 bytes plus its key). Beyond it the
/// least recently used one is forgotten (its key starts again with a full bucket).
inline constexpr std::size_t kRateLimitMaxKeys = 65'536;

struct HttpOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;
  std::string mcp_path = "/mcp";
  std::string sse_path = "/sse";
  std::string message_path = "/message";
  std::string healthz_path = "/healthz";
  std::string readyz_path = "/readyz";
  /// Prometheus metrics (text format); "" turns the endpoint off.
  std::string metrics_path = "/metrics";

  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_connections = 10'000;
  /// A keep-alive connection with no request for this long is closed.
  std::chrono::milliseconds idle_timeout{60'000};
  /// Reading one request's body must finish within this (from the end of its header).
  std::chrono::milliseconds read_timeout{30'000};
  /// One write must finish within this, or the peer is considered gone (a client that
  /// stops reading an SSE stream is cut after this).
  std::chrono::milliseconds write_timeout{30'000};
  /// An SSE comment is sent after this much silence (keeps proxies from timing out).
  std::chrono::milliseconds sse_keepalive_interval{15'000};
  /// The `retry:` hint (ms) sent on SSE streams.
  std::chrono::milliseconds sse_retry{1'000};

  /// DNS-rebinding protection: Host must be in allowed_hosts and Origin (when present) in
  /// allowed_origins, else 403. nullopt = on when bound to a loopback address.
  std::optional<bool> dns_rebinding_protection;
  /// Host names (without port) accepted besides the loopback names.
  std::vector<std::string> allowed_hosts;
  /// Origins (scheme://host[:port]) accepted besides loopback ones.
  std::vector<std::string> allowed_origins;
  /// CORS: origins that may call from a browser ("*" for any). Empty = no CORS headers.
  std::vector<std::string> cors_allowed_origins;

  /// HTTP requests to the MCP endpoints (/mcp, /sse, /message) per principal
  /// (AuthDecision::principal), or per client address for the anonymous principal "" (the
  /// peer's IP; a /64 for IPv6; behind a proxy that is the proxy's). Counted after the
  /// authorization hook, before the body is parsed; beyond it: 429 + Retry-After, -32000.
  /// Per process (docs/configuration.md "Rate limits"); per_second 0 = no limit.
  RateLimit request_rate{200, 400};
  /// Proxies whose X-Forwarded-For is believed ("10.0.0.0/8", "127.0.0.1", "fd00::/8"):
  /// when the peer is one of them, the client's address (the key of request_rate for the
  /// anonymous principal) is the rightmost X-Forwarded-For entry that is not. Empty (the
  /// default): X-Forwarded-For is never read, and behind a proxy every anonymous client
  /// shares the proxy's address. An invalid entry throws std::invalid_argument at start().
  std::vector<std::string> trusted_proxies;

  /// Optional authorization hook, called (on an I/O thread; keep it fast, never block)
  /// for every request to the MCP endpoints after the Host/Origin checks and CORS
  /// preflight, before the request is read as MCP. Not called for the health, readiness
  /// and metrics endpoints. A throwing hook counts as a rejection (401) and is logged.
  /// The principal of an allowed request binds the sessions it creates (AuthDecision).
  std::function<AuthDecision(const AuthRequest&)> authorize;
};

/// SessionOptions::max_listen_streams by default (the TypeScript SDK's maxSubscriptions).
inline constexpr std::size_t kDefaultMaxListenStreams = 1024;

struct SessionOptions {
  std::size_t max_sessions = 10'000;
  /// A session with no request and no open stream for this long is removed.
  std::chrono::milliseconds idle_ttl{30 * 60 * 1000};
  /// Keep each stream's events so a client can resume with Last-Event-ID.
  bool resumability = true;
  /// Events kept per stream for replay (oldest dropped first).
  std::size_t max_events_per_stream = 1'000;

  // What one session can make the server keep, bounded by bytes (docs/operations.md
  // "Memory per session" gives the worst case these add up to). Refusals are JSON-RPC
  // errors naming the limit; none of them ends the session.
  /// Event data kept per stream, and per session over all its streams (oldest dropped
  /// first; a POST stream keeps what its writer has not read yet, see SseStream).
  std::size_t max_event_bytes_per_stream = 1024 * 1024;
  std::size_t max_event_bytes_per_session = 4 * 1024 * 1024;
  /// POST streams per session, in use or kept for resumption after they ended: the oldest
  /// ended one makes room; with all in use a POST is answered 429 + Retry-After.
  std::size_t max_streams_per_session = 64;
  /// resources/subscribe: subscriptions per session, and the longest URI (bytes) accepted
  /// there and by notify_resource_updated.
  std::size_t max_subscriptions_per_session = 100;
  std::size_t max_uri_bytes = 4 * 1024;
  /// subscriptions/listen streams (MCP 2026-07-28) open at once in this process (they are
  /// not sessions: max_sessions does not count them); one more is refused in-band
  /// (-32603 "Subscription limit reached").
  std::size_t max_listen_streams = kDefaultMaxListenStreams;
  /// initialize: clientInfo and capabilities together, as JSON text.
  std::size_t max_client_info_bytes = 64 * 1024;
  /// Server->client requests (sampling, elicitation, roots) waiting for answers, per session.
  std::size_t max_pending_client_requests = 32;
  /// Requests in one JSON-RPC batch (protocol 2025-03-26); a larger batch is refused
  /// (-32600, HTTP 400) before any of it runs.
  std::size_t max_batch_size = 100;
  /// Items per page of tools/list, resources/list, prompts/list ...
  std::size_t page_size = 100;
};

/// The shortest accepted HaOptions::relay_secret / relay_previous_secret, in bytes
/// (shorter ones stop the server at start with HaConfigurationError).
inline constexpr std::size_t kRelaySecretMinBytes = 16;

/// High-availability settings (distributed mode). Names follow FrontMCP's config fields.
struct HaOptions {
  std::string redis_url;
  std::chrono::milliseconds heartbeat_interval{10'000};    // heartbeatIntervalMs
  std::chrono::milliseconds heartbeat_ttl{30'000};         // heartbeatTtlMs
  std::chrono::milliseconds takeover_grace_period{5'000};  // takeoverGracePeriodMs
  std::string redis_key_prefix = "mcp:ha:";                // redisKeyPrefix
  /// Shared secret of the Pub/Sub relay (relaySecret; reference server: FRONTMCP_RELAY_SECRET
  /// or --relay-secret-file). Every relay message is signed with it (HMAC-SHA256 over the
  /// channel, a timestamp and the payload) and messages that are unsigned, forged or older
  /// than a minute are dropped and counted (frontmcp_relay_refused_total). Use the same
  /// value, at least kRelaySecretMinBytes bytes of randomness, on every node. Empty: the
  /// relay is unsigned (zero-config start; warned about at start and in /readyz): anyone
  /// who can PUBLISH on this Redis can inject messages into sessions. See docs/security.md.
  /// Never logged.
  std::string relay_secret;
  /// Rotation (relayPreviousSecret; FRONTMCP_RELAY_SECRET_PREVIOUS or
  /// --relay-previous-secret-file): also accepted when verifying, never used to sign. Only
  /// together with relay_secret. Never logged.
  std::string relay_previous_secret;
  /// Called (on an I/O thread) for each session the orphan scanner claims:
  /// (session id, dead node id). Keep it short; exceptions are logged and ignored.
  std::function<void(const std::string& session_id, const std::string& from_node)> on_session_claimed;
};

/// Where sessions live when they must outlive this process (distributed mode, serverless
/// with Redis): the cluster component (`find_package(frontmcp COMPONENTS cluster)`, target
/// frontmcp::cluster, <frontmcp/cluster.hpp>) makes one: `frontmcp::cluster::backend()`.
/// The core library (frontmcp::frontmcp) has no Redis code: standalone mode needs none.
class SessionBackendFactory;

/// The shortest accepted StatelessOptions::request_state_secret, in bytes.
inline constexpr std::size_t kRequestStateSecretMinBytes = 32;

/// The stateless generation (MCP 2026-07-28): multi-round-trip requests (docs/protocol.md).
struct StatelessOptions {
  /// HMAC-SHA256 key of requestState, the state a client carries from one round of a
  /// request to the next (requestStateSecret; FRONTMCP_REQUEST_STATE_SECRET). Every node of
  /// a cluster needs the same one, so that any node verifies any retry; at least
  /// kRequestStateSecretMinBytes. Empty: derived from ha.relay_secret when that is set,
  /// otherwise a random key per process (a retry that reaches another process, or this one
  /// after a restart, is then refused with -32602 and the client starts over; logged as a
  /// warning in distributed and serverless mode). Never logged.
  std::string request_state_secret;
  /// Rotation: also accepted when verifying, never used to seal.
  std::string request_state_previous_secret;
  /// How long a round's requestState stays valid.
  std::chrono::seconds request_state_ttl{600};
  /// The largest requestState sealed or accepted (it carries the answers of earlier
  /// rounds); a round that would need more ends with -32603.
  std::size_t max_request_state_bytes = 64 * 1024;
  /// The most inputs one round may ask for (a handler asking in a loop stops here: -32603).
  std::size_t max_input_requests = 32;
};

struct ServerOptions {
  ServerInfo info;
  HttpOptions http;
  SessionOptions session;
  HaOptions ha;
  StatelessOptions stateless;
  DeploymentMode mode = DeploymentMode::standalone;
  ResponseMode response_mode = ResponseMode::automatic;
  /// Empty: --node-id > MACHINE_ID > HOSTNAME > random (see docs/configuration.md).
  std::string node_id;
  /// tools/call per principal and tool (the principal of the session or of the stateless
  /// request; "" for anonymous callers, who share it; stdio's one peer). Beyond it the call
  /// is answered with a tool result with isError true that says when to retry (the model
  /// reads it), not a JSON-RPC error. Per process; per_second 0 = no limit.
  RateLimit tool_rate{50, 100};
  /// Per-tool replacements of tool_rate, by tool name.
  std::map<std::string, RateLimit, std::less<>> tool_rates;
  /// I/O threads; 0 = one per core.
  unsigned threads = 0;
  /// Graceful stop (SIGTERM, Server::stop): first /readyz turns 503 while the server goes
  /// on serving and accepting for `shutdown_delay` (time for load balancers and Kubernetes
  /// endpoints to notice; 0 = none), then it drains: the listener closes and requests in
  /// flight get `drain_timeout` to finish.
  std::chrono::milliseconds shutdown_delay{0};
  std::chrono::milliseconds drain_timeout{5'000};
  /// Required by distributed mode (and serverless mode with ha.redis_url): Server's
  /// constructor throws HaConfigurationError without it. Ignored in standalone mode.
  std::shared_ptr<const SessionBackendFactory> session_backend;
};

std::string_view to_string(DeploymentMode mode) noexcept;

}  // namespace frontmcp
