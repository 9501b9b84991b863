// Relay signing (cluster/relay_auth.hpp): the wire format, what is refused and why,
// rotation, and the unsigned (no secret) mode.
#include "cluster/relay_auth.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using frontmcp::cluster::kRelayMaxSkew;
using frontmcp::cluster::RelayAuth;
using frontmcp::metrics::RelayRefusal;

const std::string kSecret = "0123456789abcdef0123456789abcdef";
const std::string kOther = "fedcba9876543210fedcba9876543210";
const std::string kNotify = "mcp:ha:notify:node-a";
const std::string kBroadcast = "mcp:ha:broadcast";
const std::string kJson = R"({"t":"msg","s":"sid-1","m":{"jsonrpc":"2.0","method":"notifications/message"}})";
constexpr std::int64_t kNow = 1'765'000'000'000;  // 2025-12-06, ms
const std::int64_t kWindow = kRelayMaxSkew.count();

std::optional<RelayRefusal> refusal(const RelayAuth& a, std::string_view channel, std::string_view wire,
                                    std::int64_t now = kNow) {
  return a.open(channel, wire, now).refusal;
}

TEST(RelayAuth, RoundTripAndWireFormat) {
  RelayAuth a(kSecret, "");
  ASSERT_TRUE(a.enabled());
  std::string wire = a.seal(kNotify, kJson, kNow);
  // v1.<ts>.<64 lowercase hex> <json>
  const std::string head = "v1." + std::to_string(kNow) + ".";
  ASSERT_EQ(wire.substr(0, head.size()), head);
  ASSERT_EQ(wire.size(), head.size() + 64 + 1 + kJson.size());
  for (std::size_t i = head.size(); i < head.size() + 64; ++i) {
    EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(wire[i])) &&
                !std::isupper(static_cast<unsigned char>(wire[i])));
  }
  EXPECT_EQ(wire[head.size() + 64], ' ');
  EXPECT_EQ(wire.substr(head.size() + 65), kJson);

  auto o = a.open(kNotify, wire, kNow);
  ASSERT_TRUE(o);
  EXPECT_EQ(o.payload, kJson);
  // The payload is a view into the wire string (no copy).
  EXPECT_EQ(o.payload.data(), wire.data() + head.size() + 65);
  // Another instance with the same secret (another node) opens it too, also on broadcast.
  RelayAuth b(kSecret, "");
  EXPECT_EQ(b.open(kNotify, wire, kNow + 1).payload, kJson);
  auto bw = b.seal(kBroadcast, "{}", kNow);
  EXPECT_EQ(a.open(kBroadcast, bw, kNow).payload, "{}");
  // Same inputs, same output (deterministic MAC); a new timestamp, a new MAC.
  EXPECT_EQ(a.seal(kNotify, kJson, kNow), wire);
  EXPECT_NE(a.seal(kNotify, kJson, kNow + 1).substr(head.size()), wire.substr(head.size()));
}

TEST(RelayAuth, KnownAnswer) {
  // HMAC-SHA256("0123456789abcdef0123456789abcdef",
  //   "frontmcp-relay-v1" 00 | u64be(3) | "chn" | i64be(1000) | "{}"), computed independently:
  //   python3 -c 'import hmac,hashlib,struct; print(hmac.new(b"0123456789abcdef0123456789abcdef",
  //     b"frontmcp-relay-v1\0"+struct.pack(">Q",3)+b"chn"+struct.pack(">q",1000)+b"{}",
  //     hashlib.sha256).hexdigest())'
  RelayAuth a(kSecret, "");
  EXPECT_EQ(a.seal("chn", "{}", 1000), "v1.1000.850b4710e1d142c9b53d856ae44b645091915201e1d7c989d6520e8fa391ea4c {}")
      << "update the expected MAC with the python line above if this fails after a format change";
}

TEST(RelayAuth, WrongChannelIsForged) {
  RelayAuth a(kSecret, "");
  std::string wire = a.seal("mcp:ha:notify:node-a", kJson, kNow);
  EXPECT_EQ(refusal(a, "mcp:ha:notify:node-b", wire), RelayRefusal::forged);
  EXPECT_EQ(refusal(a, kBroadcast, wire), RelayRefusal::forged);
  // The channel is length-prefixed: moving bytes between channel and payload does not verify.
  std::string w2 = a.seal("mcp:ha:notify:node-a", "{}", kNow);
  EXPECT_EQ(refusal(a, "mcp:ha:notify:node-", w2), RelayRefusal::forged);
}

TEST(RelayAuth, TamperedPayloadIsForged) {
  RelayAuth a(kSecret, "");
  std::string wire = a.seal(kNotify, kJson, kNow);
  std::string t = wire;
  t[t.size() - 3] ^= 0x01;
  EXPECT_EQ(refusal(a, kNotify, t), RelayRefusal::forged);
  EXPECT_EQ(refusal(a, kNotify, wire + " "), RelayRefusal::forged);
  EXPECT_EQ(refusal(a, kNotify, wire.substr(0, wire.size() - 1)), RelayRefusal::forged);
  // Swapping in another payload under the same header.
  auto header = wire.substr(0, wire.size() - kJson.size());
  EXPECT_EQ(refusal(a, kNotify, header + R"({"t":"handoff","s":"sid-1","to":"node-666"})"), RelayRefusal::forged);
  // A flipped MAC digit.
  std::string m = wire;
  auto at = m.find('.', 3) + 1;
  m[at] = m[at] == '0' ? '1' : '0';
  EXPECT_EQ(refusal(a, kNotify, m), RelayRefusal::forged);
}

TEST(RelayAuth, TamperedTimestampIsForged) {
  RelayAuth a(kSecret, "");
  std::string wire = a.seal(kNotify, kJson, kNow);
  std::string t = wire;
  auto pos = std::string("v1.").size() + std::to_string(kNow).size() - 1;
  t[pos] = t[pos] == '9' ? '8' : static_cast<char>(t[pos] + 1);  // ts +-1 ms, still fresh
  EXPECT_EQ(refusal(a, kNotify, t), RelayRefusal::forged);
  // An old message whose timestamp is moved forward to pass the window.
  std::string old = a.seal(kNotify, kJson, kNow - 10 * kWindow);
  auto rest = old.substr(old.find('.', 3));
  EXPECT_EQ(refusal(a, kNotify, "v1." + std::to_string(kNow) + rest), RelayRefusal::forged);
}

TEST(RelayAuth, StaleBothWays) {
  RelayAuth a(kSecret, "");
  std::string wire = a.seal(kNotify, kJson, kNow);
  EXPECT_TRUE(a.open(kNotify, wire, kNow + kWindow));  // the window is inclusive
  EXPECT_TRUE(a.open(kNotify, wire, kNow - kWindow));
  EXPECT_EQ(refusal(a, kNotify, wire, kNow + kWindow + 1), RelayRefusal::stale);  // old (a replay)
  EXPECT_EQ(refusal(a, kNotify, wire, kNow - kWindow - 1), RelayRefusal::stale);  // from the future
  EXPECT_EQ(refusal(a, kNotify, wire, 0), RelayRefusal::stale);
  EXPECT_EQ(refusal(a, kNotify, wire, -5), RelayRefusal::stale);
  EXPECT_EQ(refusal(a, kNotify, wire, INT64_MAX), RelayRefusal::stale);
  EXPECT_EQ(refusal(a, kNotify, wire, INT64_MIN), RelayRefusal::stale);
  // Extreme timestamps do not overflow.
  std::string max = a.seal(kNotify, "{}", INT64_MAX);
  EXPECT_TRUE(a.open(kNotify, max, INT64_MAX));
  EXPECT_EQ(refusal(a, kNotify, max, INT64_MIN), RelayRefusal::stale);
  EXPECT_EQ(refusal(a, kNotify, max, 0), RelayRefusal::stale);
  std::string zero = a.seal(kNotify, "{}", -42);  // sealed as 0
  EXPECT_EQ(zero.substr(0, 5), "v1.0.");
  EXPECT_TRUE(a.open(kNotify, zero, kWindow));
  EXPECT_TRUE(a.open(kNotify, zero, -kWindow));
  EXPECT_EQ(refusal(a, kNotify, zero, INT64_MIN), RelayRefusal::stale);
}

TEST(RelayAuth, RotationAcceptsThePreviousSecret) {
  RelayAuth old_node(kOther, "");
  RelayAuth step1(kOther, kSecret);  // step 1: the new secret added as previous
  RelayAuth step2(kSecret, kOther);  // step 2: swapped
  RelayAuth step3(kSecret, "");      // step 3: previous removed
  auto from_old = old_node.seal(kNotify, kJson, kNow);
  auto from_step1 = step1.seal(kNotify, kJson, kNow);
  auto from_step2 = step2.seal(kNotify, kJson, kNow);
  auto from_step3 = step3.seal(kNotify, kJson, kNow);
  EXPECT_EQ(from_step1, from_old);  // signs with the primary only
  EXPECT_EQ(from_step2, from_step3);
  // Every pair of adjacent steps understands each other.
  for (const auto* w : {&from_old, &from_step1, &from_step2}) EXPECT_EQ(step1.open(kNotify, *w, kNow).payload, kJson);
  for (const auto* w : {&from_old, &from_step1, &from_step2, &from_step3}) {
    EXPECT_EQ(step2.open(kNotify, *w, kNow).payload, kJson);
  }
  for (const auto* w : {&from_step2, &from_step3}) EXPECT_EQ(step3.open(kNotify, *w, kNow).payload, kJson);
  // Once the old secret is gone, it is refused.
  EXPECT_EQ(refusal(step3, kNotify, from_old), RelayRefusal::forged);
  // The previous secret does not make a stale message fresh.
  EXPECT_EQ(refusal(step2, kNotify, from_old, kNow + kWindow + 1), RelayRefusal::stale);
  // Same secret twice is fine.
  RelayAuth same(kSecret, kSecret);
  EXPECT_EQ(same.open(kNotify, from_step3, kNow).payload, kJson);
}

TEST(RelayAuth, UnknownSecretIsForged) {
  RelayAuth a(kSecret, "");
  RelayAuth attacker(kOther, "");
  EXPECT_EQ(refusal(a, kNotify, attacker.seal(kNotify, kJson, kNow)), RelayRefusal::forged);
  RelayAuth rotating(kSecret, "0000000000000000000000");
  EXPECT_EQ(refusal(rotating, kNotify, attacker.seal(kNotify, kJson, kNow)), RelayRefusal::forged);
}

TEST(RelayAuth, UnsignedIsRefusedWithASecret) {
  RelayAuth a(kSecret, "");
  EXPECT_EQ(refusal(a, kNotify, kJson), RelayRefusal::unsigned_message);
  EXPECT_EQ(refusal(a, kNotify, R"({"t":"legacy","s":"x","b":"{}"})"), RelayRefusal::unsigned_message);
  EXPECT_EQ(refusal(a, kNotify, ""), RelayRefusal::unsigned_message);
  EXPECT_EQ(refusal(a, kNotify, " v1.1.00 {}"), RelayRefusal::unsigned_message);
  EXPECT_EQ(a.open(kNotify, kJson, kNow).payload, "");
}

TEST(RelayAuth, WithoutASecretPlainJsonPassesAndSignedIsStripped) {
  RelayAuth none;
  EXPECT_FALSE(none.enabled());
  EXPECT_EQ(none.seal(kNotify, kJson, kNow), kJson);  // today's format
  auto o = none.open(kNotify, kJson, kNow);
  ASSERT_TRUE(o);
  EXPECT_EQ(o.payload, kJson);
  EXPECT_TRUE(none.open(kNotify, "", kNow));  // not JSON: the caller's JSON parse counts it malformed
  // A signed message (a node that already has the secret, during the roll-out) is stripped.
  RelayAuth a(kSecret, "");
  EXPECT_EQ(none.open(kNotify, a.seal(kNotify, kJson, kNow), kNow + 10 * kWindow).payload, kJson);
  // A header that is not well formed is still malformed.
  EXPECT_EQ(refusal(none, kNotify, "v1.x.y {}"), RelayRefusal::malformed);
  RelayAuth empty("", "");
  EXPECT_FALSE(empty.enabled());
  EXPECT_EQ(empty.seal(kNotify, kJson, kNow), kJson);
}

TEST(RelayAuth, MalformedHeaders) {
  RelayAuth a(kSecret, "");
  const std::string mac(64, 'a');
  for (const std::string& w : {
           std::string("v"),
           std::string("v1"),
           std::string("v1."),
           std::string("v1.."),
           std::string("v2.1.") + mac + " {}",
           "v1..." + mac + " {}",                     // empty ts
           "v1.01." + mac + " {}",                    // leading zero
           "v1.-1." + mac + " {}",                    // sign
           "v1.+1." + mac + " {}",                    // sign
           "v1.1 ." + mac + " {}",                    // space
           "v1.99999999999999999999." + mac + " {}",  // 20 digits
           "v1.9223372036854775808." + mac + " {}",   // INT64_MAX + 1
           "v1.1." + mac.substr(1) + " {}",           // 63 hex
           "v1.1." + mac + "a {}",                    // 65 hex
           "v1.1." + mac,                             // no space
           "v1.1." + std::string(64, 'A') + " {}",    // upper case
           "v1.1." + std::string(63, 'a') + "g {}",   // not hex
           "v1.1." + mac + "\t{}",
       }) {
    EXPECT_EQ(refusal(a, kNotify, w), RelayRefusal::malformed) << w;
  }
  // Well-formed but wrong MAC: forged, not malformed; an empty payload is well formed.
  EXPECT_EQ(refusal(a, kNotify, "v1.0." + mac + " {}"), RelayRefusal::forged);
  EXPECT_EQ(refusal(a, kNotify, "v1." + std::to_string(kNow) + "." + mac + " "), RelayRefusal::forged);
  auto empty = a.seal(kNotify, "", kNow);
  auto o = a.open(kNotify, empty, kNow);
  ASSERT_TRUE(o);
  EXPECT_EQ(o.payload, "");
}

TEST(RelayAuth, GarbageNeverCrashes) {
  RelayAuth signed_(kSecret, kOther);
  RelayAuth none;
  std::mt19937_64 rng(12345);
  const std::string valid = signed_.seal(kNotify, kJson, kNow);
  const std::string alphabet("v1.0123456789abcdefABCDEF {}\"\\\n\0\xff", 33);  // with the NUL
  for (int i = 0; i < 20'000; ++i) {
    std::string w;
    switch (i % 3) {
      case 0: {  // random bytes from an alphabet that hits the parser's branches
        std::size_t n = rng() % 120;
        for (std::size_t k = 0; k < n; ++k) w += alphabet[rng() % alphabet.size()];
        if (rng() % 2) w = "v1." + w;
        break;
      }
      case 1: {  // a valid message with a few bytes changed, cut or extended
        w = valid;
        for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) w[rng() % w.size()] = static_cast<char>(rng());
        break;
      }
      default:
        w = valid.substr(0, rng() % (valid.size() + 1));
        if (rng() % 2) w += std::string(rng() % 5, static_cast<char>(rng()));
    }
    auto o = signed_.open(kNotify, w, kNow);
    if (o) {
      EXPECT_EQ(w, valid) << "only the genuine message opens";
    } else {
      EXPECT_TRUE(o.payload.empty());
    }
    (void)none.open(kNotify, w, kNow);
  }
}

TEST(RelayAuth, ConcurrentUseIsSafe) {
  RelayAuth a(kSecret, kOther);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2'000; ++i) {
        std::string ch = "mcp:ha:notify:n" + std::to_string(t);
        std::string json = "{\"i\":" + std::to_string(i) + "}";
        auto w = a.seal(ch, json, kNow + i);
        if (a.open(ch, w, kNow + i).payload != json) ++bad;
        if (a.open(kBroadcast, w, kNow + i)) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(RelayAuth, SecretChecks) {
  EXPECT_EQ(RelayAuth::check_secrets("", ""), "");
  EXPECT_EQ(RelayAuth::check_secrets(kSecret, ""), "");
  EXPECT_EQ(RelayAuth::check_secrets(kSecret, kOther), "");
  EXPECT_EQ(RelayAuth::check_secrets(std::string(frontmcp::kRelaySecretMinBytes, 'x'), ""), "");
  const std::string short_secret(frontmcp::kRelaySecretMinBytes - 1, 'x');
  auto p = RelayAuth::check_secrets(short_secret, "");
  EXPECT_NE(p.find("relaySecret is 15 bytes"), std::string::npos) << p;
  EXPECT_EQ(p.find(short_secret), std::string::npos) << "the secret itself is never in a message";
  EXPECT_NE(RelayAuth::check_secrets(kSecret, "short").find("relayPreviousSecret is 5 bytes"), std::string::npos);
  EXPECT_NE(RelayAuth::check_secrets("", kSecret).find("without relaySecret"), std::string::npos);
  try {
    RelayAuth bad("too-short", "");
    FAIL() << "a short secret must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("HaConfigurationError"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("too-short"), std::string::npos);
  }
  EXPECT_THROW(RelayAuth("", kSecret), std::invalid_argument);
}

}  // namespace
