#pragma once
// The messages of the Pub/Sub relay (docs/ha.md "Relay"): one struct per type, one
// decode() from the JSON payload (after RelayAuth::open) and one encode() to it (before
// RelayAuth::seal). Pure: no Redis, no sessions; tests/unit/relay_message_test.cpp.
//
// Wire: a JSON object whose "t" names the type; the other fields per type, in this order
// (encode() writes exactly these bytes; the Lua scripts publish lost/owned/left as given):
//
//   msg      {"t":"msg","s":sid,"m":message}                 to the owner of a session
//   sub      {"t":"sub","u":uri,"m":message,"o":origin}       broadcast: resources/updated
//   all      {"t":"all","m":message,"o":origin}               broadcast: list_changed etc.
//   resp     {"t":"resp","s":sid,"r":id,"ok":result}          a client's answer, or an
//            {"t":"resp","s":sid,"r":id,"err":{code,message,data}}   acknowledgement
//   state    {"t":"state","s":sid,"e":epoch,"v":rev,"st":state,"r":id}   replica -> owner
//   lost     {"t":"lost","s":sid,"by":node}                   takeover.lua -> old owner
//   drop     {"t":"drop","s":sid,"r":id}                      DELETE elsewhere -> owner
//   handoff  {"t":"handoff","s":sid,"to":node}                "give me the session"
//   owned    {"t":"owned","s":sid,"from":node}                handoff.lua -> new owner
//   left     {"t":"left","n":node}                            leave.lua (broadcast)
//   legacy   {"t":"legacy","s":sid,"b":body}                  a legacy POST /message body
//
// Decoding is as lenient as the receiver always was: a field of the wrong JSON type reads
// as absent (std::nullopt, or "" for ids), and each handler decides what absence means.
// Refused (and counted by the caller): a payload that is not a JSON object, or whose "e"
// or "v" is a number but not an unsigned 64-bit integer (malformed); a "t" that is
// missing, not a string or not one of the above (unknown_type: a newer node's type).
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <frontmcp/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "util/metrics.hpp"

namespace frontmcp::cluster::relay {

/// In the order of the alternatives of Message.
enum class Type : std::uint8_t { msg, sub, all, resp, state, lost, drop, handoff, owned, left, legacy };
/// The "t" of a type: "msg", "sub", ...
std::string_view name_of(Type t) noexcept;

struct Msg {
  std::string sid;                  // "s"
  std::optional<json::value> body;  // "m"
};
struct Sub {
  std::optional<std::string> uri;   // "u"
  std::optional<json::value> body;  // "m"
  std::string origin;               // "o": the sender (which delivered it itself)
};
struct All {
  std::optional<json::value> body;  // "m"
  std::string origin;               // "o"
};
struct Resp {
  std::string sid;                        // "s"
  std::optional<std::string> request_id;  // "r": "<id>@<node that waits>"
  /// "ok" (null when absent), or "err" when that is an object: code (kInternalError when
  /// not an integer), message ("" when not a string), data (null when absent).
  Result<json::value> answer = json::value();
};
struct State {
  std::string sid;                    // "s"
  std::uint64_t epoch = 0;            // "e" (0 when not a number)
  std::uint64_t rev = 0;              // "v" (0 when not a number)
  std::optional<json::object> state;  // "st": SessionState JSON
  std::string reply_id;               // "r" ("" when absent: nobody waits)
};
struct Lost {
  std::string sid;                // "s"
  std::optional<std::string> by;  // "by": the node that took the session over
};
struct Drop {
  std::string sid;       // "s"
  std::string reply_id;  // "r"
};
struct Handoff {
  std::string sid;                // "s"
  std::optional<std::string> to;  // "to": the node that asks for the session
};
struct Owned {
  std::string sid;   // "s"
  std::string from;  // "from": the previous owner
};
struct Left {
  std::string node;  // "n"
};
struct Legacy {
  std::string sid;                  // "s"
  std::optional<std::string> body;  // "b": the POST /message body
};

using Message = std::variant<Msg, Sub, All, Resp, State, Lost, Drop, Handoff, Owned, Left, Legacy>;

inline Type type_of(const Message& m) noexcept {
  return static_cast<Type>(m.index());
}

/// What decode() makes of a payload: a message, or why it is refused.
struct Decoded {
  std::optional<Message> message;
  metrics::RelayRefusal refusal = metrics::RelayRefusal::malformed;  // when !message
  explicit operator bool() const noexcept { return message.has_value(); }
};

/// The JSON payload of a relay message (RelayAuth::Opened::payload). Never throws.
Decoded decode(std::string_view payload);
/// The JSON object of a message (the field order above).
json::object encode(Message m);
/// encode(), serialised: what RelayAuth::seal() signs.
std::string serialize(Message m);

}  // namespace frontmcp::cluster::relay
