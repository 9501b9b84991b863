#pragma once
// The client's address behind trusted proxies (HttpOptions::trusted_proxies): the peer's
// address, unless the peer is a trusted proxy, in which case X-Forwarded-For is read from
// the right (the entry the nearest proxy added) past every trusted hop. An entry a client
// wrote itself sits left of the first untrusted hop and is never reached, so a client
// cannot choose its own address (docs/configuration.md "Rate limits").
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::http {

/// A set of addresses and networks ("10.0.0.0/8", "127.0.0.1", "fd00::/8", "::1").
class AddressSet {
 public:
  AddressSet() = default;
  /// Throws std::invalid_argument naming an entry that is neither an address nor a network.
  explicit AddressSet(const std::vector<std::string>& entries);

  bool empty() const noexcept { return v4_.empty() && v6_.empty(); }
  /// An IPv4-mapped IPv6 address is looked up as its IPv4 address.
  bool contains(const boost::asio::ip::address& address) const noexcept;

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

/// An IPv4-mapped IPv6 address as its IPv4 address; any other address unchanged.
boost::asio::ip::address unmapped(const boost::asio::ip::address& address) noexcept;

/// The client's address: `peer` when it is not in `trusted`; else the rightmost entry of
/// `x_forwarded_for` (every X-Forwarded-For field, joined by ",") that is not in `trusted`
/// (the leftmost when all are). An entry that is not a bare address ends the walk at the
/// last address read: nothing beyond it can be believed.
boost::asio::ip::address client_address(const boost::asio::ip::address& peer, std::string_view x_forwarded_for,
                                        const AddressSet& trusted);

/// A client address as a rate-limit key: "a:", then '4' and the 4 bytes of an IPv4 address,
/// or '6' and the first 8 of an IPv6 one (its /64: one host or one home network usually has
/// a whole /64, so its addresses are one client). Bytes, not text (to_string costs ~1,900
/// instructions), and short enough for a string's inline buffer: no allocation.
/// util::address_key_text turns it back into text for logs.
std::string address_key(const boost::asio::ip::address& address);

}  // namespace frontmcp::http
