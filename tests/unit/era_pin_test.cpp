// stdio's generation, pinned by the opening exchange (protocol/era_pin.hpp).
#include "protocol/era_pin.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace {

using namespace frontmcp::protocol;
using modern::EraPin;
using Route = EraPin::Route;
using State = EraPin::State;
namespace json = boost::json;

const char* const kClaim = R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                           R"("io.modelcontextprotocol/clientCapabilities":{}})";

/// A message and the JSON it points into.
struct Msg {
  explicit Msg(const std::string& text) : value(json::parse(text)), m(*classify(value)) {}
  json::value value;
  Message m;
};

Msg request(std::string_view method, bool claim) {
  return Msg(R"({"jsonrpc":"2.0","id":1,"method":")" + std::string(method) + R"(","params":{)" + (claim ? kClaim : "") +
             "}}");
}

/// Routes `msg` and settles it as served (a modern request accepted when `accepted`).
Route serve(EraPin& pin, const Msg& msg, bool accepted = true, bool in_batch = false) {
  auto r = pin.route(msg.m, in_batch);
  pin.settle(msg.m, r, accepted);
  return r;
}

TEST(EraPin, InitializeOrAnyClaimlessMessagePinsLegacy) {
  for (std::string_view method : {"initialize", "tools/list", "server/discover"}) {
    EraPin pin;
    EXPECT_EQ(serve(pin, request(method, false)), Route::legacy) << method;
    EXPECT_EQ(pin.state(), State::legacy) << method;
    // Pinned: a claim no longer changes the generation.
    EXPECT_EQ(serve(pin, request("tools/list", true)), Route::legacy) << method;
  }
  EraPin pin;
  serve(pin, Msg(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  EXPECT_EQ(pin.state(), State::legacy);
}

TEST(EraPin, AcceptedModernRequestPinsModern) {
  EraPin pin;
  EXPECT_EQ(serve(pin, request("tools/list", true)), Route::modern);
  EXPECT_EQ(pin.state(), State::modern);
  // Then everything is modern, claim or not (a claim-less initialize is refused -32022 by
  // the transport; a claim-less request fails the _meta rung).
  EXPECT_EQ(serve(pin, request("initialize", false)), Route::modern);
  EXPECT_EQ(serve(pin, request("tools/list", false)), Route::modern);
  EXPECT_EQ(pin.state(), State::modern);
}

TEST(EraPin, DiscoverIsModernWithoutPinning) {
  EraPin pin;
  EXPECT_EQ(serve(pin, request("server/discover", true)), Route::modern);
  EXPECT_EQ(pin.state(), State::open);
  // The dual-era client may still fall back to the session handshake.
  EXPECT_EQ(serve(pin, request("initialize", false)), Route::legacy);
  EXPECT_EQ(pin.state(), State::legacy);
}

TEST(EraPin, RefusedClaimOrModernNotificationDoesNotPin) {
  EraPin pin;
  EXPECT_EQ(serve(pin, request("tools/list", true), /*accepted=*/false), Route::modern);
  EXPECT_EQ(pin.state(), State::open);
  EXPECT_EQ(serve(pin, Msg(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{)" + std::string(kClaim) +
                           R"(,"requestId":1}})")),
            Route::modern);
  EXPECT_EQ(pin.state(), State::open);
}

TEST(EraPin, BatchesAreNotModern) {
  EraPin pin;
  EXPECT_EQ(serve(pin, request("tools/list", true), true, /*in_batch=*/true), Route::batch_refused);
  EXPECT_EQ(pin.state(), State::open);
  serve(pin, request("tools/list", true));
  EXPECT_EQ(serve(pin, request("tools/list", false), true, /*in_batch=*/true), Route::batch_refused);
  EraPin legacy;
  EXPECT_EQ(serve(legacy, request("tools/list", false), true, /*in_batch=*/true), Route::legacy);
}

}  // namespace
