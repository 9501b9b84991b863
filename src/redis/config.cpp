// Config::from_url and Config::redacted.
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <limits>

#include "redis/redis.hpp"

namespace frontmcp::redis {

namespace {

Error bad_url(std::string what) {
  return Error{errc::kInvalidParams, "redis url: " + std::move(what), {}};
}

/// Decimal digits only, within [min, max].
template <class Int>
bool parse_int(std::string_view s, Int min, Int max, Int& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  Int v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return false;
  out = v;
  return true;
}

bool parse_ms(std::string_view s, std::chrono::milliseconds& out) {
  long long v = 0;
  if (!parse_int<long long>(s, 1, 24LL * 3600 * 1000, v)) return false;
  out = std::chrono::milliseconds(v);
  return true;
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `keep` (for the
/// user name and query values in redacted()).
std::string encode(std::string_view s, std::string_view keep = {}) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || keep.find(static_cast<char>(c)) != std::string_view::npos;
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

Result<Config> Config::from_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return bad_url("not a URI");
  const boost::urls::url_view& u = *parsed;
  Config cfg;
  if (u.scheme() == "redis") {
    cfg.tls = false;
  } else if (u.scheme() == "rediss") {
    cfg.tls = true;
  } else {
    return bad_url("scheme must be redis or rediss, not '" + std::string(u.scheme()) + "'");
  }
  if (!u.has_authority() || u.encoded_host().empty()) return bad_url("no host");
  if (u.has_fragment()) return bad_url("unexpected fragment");

  if (u.has_userinfo()) {
    cfg.username = u.user();
    if (u.has_password()) cfg.password = u.password();
    if (cfg.password.empty()) {
      // "redis://user@host" is ambiguous (user or password?): say which one is meant.
      if (!cfg.username.empty()) return bad_url("a user name needs a password (redis://user:password@host)");
    }
  }

  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      cfg.host = u.host_address();
      break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::name:
      cfg.host = u.host_address();
      break;
    default:
      return bad_url("unsupported host");
  }
  if (u.has_port()) {
    if (!parse_int<std::uint16_t>(u.port(), 1, 65535, cfg.port))
      return bad_url("bad port '" + std::string(u.port()) + "'");
  }

  std::string path = u.path();
  // Boost.URL 1.81 accepts "redis://h:12ab" as port 12 and path "ab".
  if (!path.empty() && path.front() != '/') return bad_url("bad port or path after the host");
  if (!path.empty() && path != "/") {
    std::string_view db = path;
    if (db.front() == '/') db.remove_prefix(1);
    if (!parse_int<int>(db, 0, std::numeric_limits<int>::max(), cfg.db))
      return bad_url("bad db number '" + std::string(db) + "'");
  }

  if (u.has_query()) {
    for (auto param : u.params()) {
      const std::string& key = param.key;
      const std::string& value = param.value;
      if (key == "timeout") {
        if (!parse_ms(value, cfg.command_timeout)) return bad_url("bad timeout '" + value + "' (milliseconds)");
      } else if (key == "connect_timeout") {
        if (!parse_ms(value, cfg.connect_timeout)) return bad_url("bad connect_timeout '" + value + "' (milliseconds)");
      } else if (key == "verify") {
        if (value == "true") {
          cfg.tls_verify = true;
        } else if (value == "false") {
          cfg.tls_verify = false;
        } else {
          return bad_url("bad verify '" + value + "' (true or false)");
        }
      } else if (key == "ca") {
        if (value.empty()) return bad_url("empty ca");
        cfg.tls_ca_file = value;
      } else {
        return bad_url("unknown parameter '" + key + "'");
      }
    }
  }
  return cfg;
}

std::string Config::redacted() const {
  std::string out = tls ? "rediss://" : "redis://";
  if (!password.empty()) {
    out += encode(username);
    out += ":***@";
  }
  if (host.find(':') != std::string::npos) {
    out += '[' + host + ']';
  } else {
    out += host;
  }
  out += ':' + std::to_string(port);
  if (db != 0) out += '/' + std::to_string(db);
  const Config defaults;
  std::string query;
  auto add = [&query](std::string_view key, const std::string& value) {
    query += query.empty() ? '?' : '&';
    query += key;
    query += '=';
    query += encode(value, "/:@");  // allowed in a query (RFC 3986 pchar)
  };
  if (command_timeout != defaults.command_timeout) add("timeout", std::to_string(command_timeout.count()));
  if (connect_timeout != defaults.connect_timeout) add("connect_timeout", std::to_string(connect_timeout.count()));
  if (tls && !tls_verify) add("verify", "false");
  if (!tls_ca_file.empty()) add("ca", tls_ca_file);
  return out + query;
}

}  // namespace frontmcp::redis
