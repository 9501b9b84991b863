#include "cluster/relay_auth.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

#include "util/crypto.hpp"

namespace frontmcp::cluster {

namespace {

constexpr std::size_t kMacBytes = 32;           // SHA-256
constexpr std::size_t kMacHex = 2 * kMacBytes;  // 64 hex digits on the wire
constexpr std::size_t kMaxTsDigits = 19;        // INT64_MAX has 19 digits
using Mac = util::Digest;
static_assert(kMacBytes == util::kSha256Bytes);

void put_be64(unsigned char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not canonical: seal() writes lower case only
}

/// The parts of `v1.<ts>.<mac> <json>`; nullopt when `wire` is not exactly that shape.
struct Header {
  std::int64_t ts = 0;
  Mac mac{};
  std::string_view payload;
};
std::optional<Header> parse_header(std::string_view wire) noexcept {
  if (wire.substr(0, kRelayWirePrefix.size()) != kRelayWirePrefix) return std::nullopt;
  std::string_view rest = wire.substr(kRelayWirePrefix.size());
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > kMaxTsDigits) return std::nullopt;
  std::string_view ts = rest.substr(0, dot);
  if (ts.size() > 1 && ts.front() == '0') return std::nullopt;  // canonical: no leading zeros
  Header h;
  for (char c : ts) {
    if (c < '0' || c > '9') return std::nullopt;  // no sign, no spaces
  }
  auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), h.ts);
  if (ec != std::errc() || end != ts.data() + ts.size()) return std::nullopt;  // out of range
  rest.remove_prefix(dot + 1);
  if (rest.size() < kMacHex + 1 || rest[kMacHex] != ' ') return std::nullopt;
  for (std::size_t i = 0; i < kMacBytes; ++i) {
    int hi = hex_value(rest[2 * i]);
    int lo = hex_value(rest[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h.mac[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  h.payload = rest.substr(kMacHex + 1);
  return h;
}

/// |now - ts| <= kRelayMaxSkew without overflow (ts >= 0: it was parsed without a sign).
bool fresh(std::int64_t ts, std::int64_t now) noexcept {
  const std::int64_t window = kRelayMaxSkew.count();
  if (now < 0) return ts <= now + window;  // ts >= 0 > now
  return ts >= now ? ts - now <= window : now - ts <= window;
}

}  // namespace

/// One secret, as an HMAC-SHA256 key set up once at start (util::HmacSha256: each MAC
/// works on a copy of the keyed context, so concurrent use is safe).
struct RelayAuth::Key {
  util::HmacSha256 hmac;

  explicit Key(std::string_view secret) : hmac(secret) {}

  /// HMAC over the tag, the channel (length-prefixed), the timestamp and the payload.
  bool compute(std::string_view channel, std::int64_t ts, std::string_view payload, Mac& out) const noexcept {
    unsigned char len[8], when[8];
    put_be64(len, channel.size());
    put_be64(when, static_cast<std::uint64_t>(ts));
    auto bytes = [](const unsigned char(&b)[8]) { return std::string_view(reinterpret_cast<const char*>(b), 8); };
    try {
      out = hmac.mac({kRelayMacTag, std::string_view("\0", 1), bytes(len), channel, bytes(when), payload});
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
};

std::string RelayAuth::check_secrets(std::string_view secret, std::string_view previous_secret) {
  auto too_short = [](std::string_view name, std::size_t size) {
    return std::string(name) + " is " + std::to_string(size) + " bytes long; it needs at least " +
           std::to_string(kRelaySecretMinBytes) + " (e.g. the output of `openssl rand -hex 32`)";
  };
  if (secret.empty() && !previous_secret.empty()) {
    return "relayPreviousSecret is set without relaySecret (the previous secret only verifies; "
           "set the current one as relaySecret)";
  }
  if (!secret.empty() && secret.size() < kRelaySecretMinBytes) return too_short("relaySecret", secret.size());
  if (!previous_secret.empty() && previous_secret.size() < kRelaySecretMinBytes) {
    return too_short("relayPreviousSecret", previous_secret.size());
  }
  return {};
}

RelayAuth::RelayAuth(std::string_view secret, std::string_view previous_secret) {
  if (auto problem = check_secrets(secret, previous_secret); !problem.empty()) {
    throw std::invalid_argument("HaConfigurationError: " + problem);
  }
  if (!secret.empty()) primary_ = std::make_shared<const Key>(secret);
  if (!previous_secret.empty() && previous_secret != secret) previous_ = std::make_shared<const Key>(previous_secret);
}

std::string RelayAuth::seal(std::string_view channel, std::string_view json_payload, std::int64_t now_ms) const {
  if (!primary_) return std::string(json_payload);
  const std::int64_t ts = now_ms < 0 ? 0 : now_ms;
  Mac mac;
  if (!primary_->compute(channel, ts, json_payload, mac)) throw std::runtime_error("relay auth: HMAC failed");
  std::string out;
  out.reserve(kRelayWirePrefix.size() + kMaxTsDigits + 1 + kMacHex + 1 + json_payload.size());
  out += kRelayWirePrefix;
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, ts);
  out.append(buf, r.ptr);
  out += '.';
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : mac) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0f];
  }
  out += ' ';
  out += json_payload;
  return out;
}

RelayAuth::Opened RelayAuth::open(std::string_view channel, std::string_view wire, std::int64_t now_ms) const noexcept {
  using metrics::RelayRefusal;
  const bool signed_form = !wire.empty() && wire.front() == 'v';
  if (!signed_form) {
    if (primary_) return {{}, RelayRefusal::unsigned_message};
    return {wire, std::nullopt};
  }
  auto h = parse_header(wire);
  if (!h) return {{}, RelayRefusal::malformed};
  if (!primary_) return {h->payload, std::nullopt};  // cannot verify; see the header comment
  bool match = false;
  for (const auto* key : {primary_.get(), previous_.get()}) {
    Mac expect;
    if (key && key->compute(channel, h->ts, h->payload, expect) && util::equal_constant_time(expect, h->mac)) {
      match = true;
      break;
    }
  }
  if (!match) return {{}, RelayRefusal::forged};
  if (!fresh(h->ts, now_ms)) return {{}, RelayRefusal::stale};
  return {h->payload, std::nullopt};
}

std::int64_t RelayAuth::wall_clock_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace frontmcp::cluster
