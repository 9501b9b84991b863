#include "cluster/scripts.hpp"

#include <openssl/sha.h>

#include <boost/asio/use_awaitable.hpp>

namespace frontmcp::cluster {

namespace {
std::string sha1_hex(std::string_view s) {
  unsigned char d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char c : d) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

redis::Command build(std::string verb, const std::string& body, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args) {
  redis::Command c;
  c.reserve(3 + keys.size() + args.size());
  c.push_back(std::move(verb));
  c.push_back(body);
  c.push_back(std::to_string(keys.size()));
  c.insert(c.end(), keys.begin(), keys.end());
  c.insert(c.end(), args.begin(), args.end());
  return c;
}
}  // namespace

Script::Script(std::string name, std::string_view source)
    : name_(std::move(name)), source_(source), sha_(sha1_hex(source)) {}

redis::Command Script::evalsha(const std::vector<std::string>& keys, const std::vector<std::string>& args) const {
  return build("EVALSHA", sha_, keys, args);
}
redis::Command Script::eval(const std::vector<std::string>& keys, const std::vector<std::string>& args) const {
  return build("EVAL", source_, keys, args);
}

boost::asio::awaitable<Result<redis::Reply, ScriptError>> Script::run(redis::Client& client,
                                                                      std::vector<std::string> keys,
                                                                      std::vector<std::string> args) const {
  auto r = co_await client.command(evalsha(keys, args));
  if (r && r->is_noscript()) r = co_await client.command(eval(keys, args));
  if (!r) co_return ScriptError{std::move(r).error()};
  if (r->is_error()) {
    co_return ScriptError{{errc::kServerError, "redis: " + name_ + ".lua: " + r->str, {}}, r->error_kind()};
  }
  co_return std::move(r).value();
}

std::string_view reply_str(const redis::Reply& r, std::size_t i) {
  if (i >= r.elements.size()) return {};
  return r.elements[i].str;
}

long long reply_int(const redis::Reply& r, std::size_t i) {
  if (i >= r.elements.size()) return 0;
  const auto& e = r.elements[i];
  if (e.type == redis::Reply::Type::integer) return e.integer;
  try {
    return e.str.empty() ? 0 : std::stoll(e.str);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace frontmcp::cluster
