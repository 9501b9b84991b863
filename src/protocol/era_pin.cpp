// The generation a stdio process serves (era_pin.hpp).
#include "protocol/era_pin.hpp"

#include "protocol/modern.hpp"

namespace frontmcp::protocol::modern {

namespace {
bool claims_modern(const Message& m) noexcept {
  return (m.kind == MessageKind::request || m.kind == MessageKind::notification) && has_claim(m.params);
}
}  // namespace

EraPin::Route EraPin::route(const Message& m, bool in_batch) const noexcept {
  if (state_ == State::legacy) return Route::legacy;
  bool modern = state_ == State::modern || claims_modern(m);
  if (modern && in_batch) return Route::batch_refused;
  return modern ? Route::modern : Route::legacy;
}

void EraPin::settle(const Message& m, Route route, bool accepted) noexcept {
  if (state_ != State::open) return;
  if (route == Route::legacy) {
    state_ = State::legacy;
  } else if (route == Route::modern && accepted && m.kind == MessageKind::request && m.method != "server/discover") {
    state_ = State::modern;
  }
}

}  // namespace frontmcp::protocol::modern
