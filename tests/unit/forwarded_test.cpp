// http::AddressSet and http::client_address: who the client is behind trusted proxies.
#include "http/forwarded.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "util/rate_limit.hpp"

namespace frontmcp::http {
namespace {

namespace ip = boost::asio::ip;

ip::address addr(const char* s) {
  return ip::make_address(s);
}

TEST(AddressSet, AddressesAndNetworksOfBothFamilies) {
  AddressSet set({"10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"});
  EXPECT_TRUE(set.contains(addr("10.1.2.3")));
  EXPECT_FALSE(set.contains(addr("11.0.0.1")));
  EXPECT_TRUE(set.contains(addr("192.168.1.7")));
  EXPECT_FALSE(set.contains(addr("192.168.1.8")));
  EXPECT_TRUE(set.contains(addr("fd12:3456::1")));
  EXPECT_FALSE(set.contains(addr("fe80::1")));
  EXPECT_TRUE(set.contains(addr("::1")));
  EXPECT_TRUE(set.contains(addr("::ffff:10.9.9.9"))) << "an IPv4-mapped address is its IPv4 address";
  EXPECT_FALSE(AddressSet().contains(addr("127.0.0.1")));
  EXPECT_TRUE(AddressSet().empty());
}

TEST(AddressSet, ANetworkWithHostBitsIsItsNetworkAndOddPrefixesWork) {
  AddressSet set({"10.1.2.3/16", "2001:db8:ff00::/36"});
  EXPECT_TRUE(set.contains(addr("10.1.200.1")));
  EXPECT_FALSE(set.contains(addr("10.2.0.1")));
  EXPECT_TRUE(set.contains(addr("2001:db8:f7ff::1")));
  EXPECT_FALSE(set.contains(addr("2001:db8:e000::1")));
}

TEST(AddressSet, AnInvalidEntryThrowsNamingIt) {
  for (const char* bad : {"proxy.example", "10.0.0.0/33", "1.2.3", "::1/129", ""}) {
    try {
      AddressSet set({bad});
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(ClientAddress, AnUntrustedPeerIsTheClientWhateverItForwards) {
  AddressSet trusted({"10.0.0.0/8"});
  EXPECT_EQ(client_address(addr("203.0.113.9"), "198.51.100.1", trusted), addr("203.0.113.9"));
  EXPECT_EQ(client_address(addr("10.0.0.2"), "198.51.100.1", AddressSet()), addr("10.0.0.2"));
}

TEST(ClientAddress, TheRightmostUntrustedEntryBehindTrustedHops) {
  AddressSet trusted({"10.0.0.0/8", "127.0.0.1"});
  EXPECT_EQ(client_address(addr("127.0.0.1"), "198.51.100.1", trusted), addr("198.51.100.1"));
  // The client wrote "1.1.1.1" itself; the proxies added the rest: it is never reached.
  EXPECT_EQ(client_address(addr("127.0.0.1"), "1.1.1.1, 198.51.100.1, 10.0.0.5", trusted), addr("198.51.100.1"));
  EXPECT_EQ(client_address(addr("::ffff:127.0.0.1"), " 2001:db8::7 ", trusted), addr("2001:db8::7"));
  // Every hop trusted: the leftmost.
  EXPECT_EQ(client_address(addr("127.0.0.1"), "10.0.0.9,10.0.0.5", trusted), addr("10.0.0.9"));
  // No header: the proxy itself.
  EXPECT_EQ(client_address(addr("127.0.0.1"), "", trusted), addr("127.0.0.1"));
}

TEST(ClientAddress, AnEntryThatIsNoAddressEndsTheWalkAtTheLastAddressRead) {
  AddressSet trusted({"10.0.0.0/8"});
  EXPECT_EQ(client_address(addr("10.0.0.1"), "198.51.100.1, unknown", trusted), addr("10.0.0.1"));
  EXPECT_EQ(client_address(addr("10.0.0.1"), "garbage, 10.0.0.7", trusted), addr("10.0.0.7"));
  EXPECT_EQ(client_address(addr("10.0.0.1"), "198.51.100.1:4711", trusted), addr("10.0.0.1"));
}

// The rate limits' key of an anonymous client: its address's bytes (an IPv6 one's /64), and
// back to text only for a log line.
TEST(AddressKey, BytesOfTheAddressOrItsSlash64AndTextForLogs) {
  auto v4 = address_key(addr("198.51.100.7"));
  EXPECT_EQ(v4, std::string("a:4\xC6\x33\x64\x07", 7));
  EXPECT_EQ(util::address_key_text(v4), "198.51.100.7");
  auto v6 = address_key(addr("2001:db8:0:1::1"));
  EXPECT_EQ(v6.size(), 11u);
  EXPECT_EQ(v6, address_key(addr("2001:db8:0:1:ffff::2"))) << "one /64, one key";
  EXPECT_NE(v6, address_key(addr("2001:db8:0:2::1")));
  EXPECT_EQ(util::address_key_text(v6), "2001:db8:0:1::/64");
  EXPECT_EQ(util::address_key_text("p:alice"), "?");
  EXPECT_EQ(util::address_key_text(""), "?");
}

}  // namespace
}  // namespace frontmcp::http
