#include "http/forwarded.hpp"

#include <algorithm>
#include <stdexcept>

namespace frontmcp::http {

namespace ip = boost::asio::ip;

namespace {
std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool in_network(const ip::address_v6& a, const ip::network_v6& n) noexcept {
  auto x = a.to_bytes();
  auto y = n.network().to_bytes();
  unsigned bits = n.prefix_length();
  for (std::size_t i = 0; i < x.size() && bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    unsigned char mask = bits >= 8 ? 0xFF : static_cast<unsigned char>(0xFF << (8 - bits));
    if ((x[i] & mask) != (y[i] & mask)) return false;
  }
  return true;
}
}  // namespace

AddressSet::AddressSet(const std::vector<std::string>& entries) {
  for (const std::string& e : entries) {
    boost::system::error_code ec;
    std::string_view s = trim(e);
    if (s.find('/') == std::string_view::npos) {
      auto a = unmapped(ip::make_address(s, ec));
      if (!ec && a.is_v4()) v4_.push_back(ip::network_v4(a.to_v4(), 32));
      if (!ec && a.is_v6()) v6_.push_back(ip::network_v6(a.to_v6(), 128));
    } else if (s.find(':') == std::string_view::npos) {
      auto n = ip::make_network_v4(s, ec);
      if (!ec) v4_.push_back(n.canonical());
    } else {
      auto n = ip::make_network_v6(s, ec);
      if (!ec) v6_.push_back(n.canonical());
    }
    if (ec) throw std::invalid_argument("trusted proxy '" + e + "' is neither an IP address nor a network (a/len)");
  }
}

ip::address unmapped(const ip::address& address) noexcept {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

bool AddressSet::contains(const ip::address& address) const noexcept {
  ip::address a = unmapped(address);
  if (a.is_v4()) {
    auto bits = a.to_v4().to_uint();
    return std::any_of(v4_.begin(), v4_.end(), [bits](const ip::network_v4& n) {
      return (bits & n.netmask().to_uint()) == n.network().to_uint();
    });
  }
  const ip::address_v6 v6 = a.to_v6();
  return std::any_of(v6_.begin(), v6_.end(), [&v6](const ip::network_v6& n) { return in_network(v6, n); });
}

ip::address client_address(const ip::address& peer, std::string_view x_forwarded_for, const AddressSet& trusted) {
  ip::address current = unmapped(peer);
  std::string_view rest = x_forwarded_for;
  while (trusted.contains(current) && !rest.empty()) {
    auto comma = rest.rfind(',');
    std::string_view entry = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    boost::system::error_code ec;
    auto next = ip::make_address(entry, ec);
    if (ec) break;  // "unknown", a port, garbage: the last address read is all we know
    current = unmapped(next);
  }
  return current;
}

std::string address_key(const boost::asio::ip::address& address) {
  std::string key = "a:";
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    key.append(1, '4').append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } else {
    auto bytes = address.to_v6().to_bytes();
    key.append(1, '6').append(reinterpret_cast<const char*>(bytes.data()), 8);
  }
  return key;
}

}  // namespace frontmcp::http
