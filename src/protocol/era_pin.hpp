#pragma once
// stdio serves one client per process, so the generation is decided once for the process
// (MCP 2026-07-28 basic/transports/stdio.mdx; the TypeScript SDK's serveStdio): the
// opening exchange pins it. `initialize`, or any message without a modern claim, pins the
// session generation (the behaviour of earlier releases); a modern request that passes the
// checks pins the stateless one. `server/discover` (a dual-era client's probe) is answered
// on the modern path without pinning, so the client may still fall back to `initialize`.
// After a modern pin, a claim-less `initialize` is refused with -32022 (the transport's
// part). Pure; not thread-safe (stdio handles its lines one at a time).
#include "protocol/jsonrpc.hpp"

namespace frontmcp::protocol::modern {

class EraPin {
 public:
  enum class State { open, legacy, modern };
  enum class Route {
    legacy,        // the session generation (the process's one session)
    modern,        // the stateless generation (modern::check_request without headers)
    batch_refused  // -32600: the stateless generation has no batches
  };

  /// Where `m` goes, given what is pinned (`in_batch`: an element of a JSON-RPC batch).
  Route route(const Message& m, bool in_batch) const noexcept;
  /// `m` went `route`; `accepted`: a modern request passed the checks. Pins the process's
  /// generation when this is the opening exchange.
  void settle(const Message& m, Route route, bool accepted) noexcept;
  State state() const noexcept { return state_; }

 private:
  State state_ = State::open;
};

}  // namespace frontmcp::protocol::modern
