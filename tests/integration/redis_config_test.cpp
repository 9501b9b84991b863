// The Redis client's pure parts: URL parsing, redaction, RESP encoding and reply parsing.
// No server needed.
#include <gtest/gtest.h>

#include <string>

#include "redis/redis.hpp"
#include "redis/resp.hpp"

namespace frontmcp::redis {
namespace {

TEST(RedisConfig, DefaultsFromAMinimalUrl) {
  auto cfg = Config::from_url("redis://localhost");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->host, "localhost");
  EXPECT_EQ(cfg->port, 6379);
  EXPECT_EQ(cfg->db, 0);
  EXPECT_FALSE(cfg->tls);
  EXPECT_TRUE(cfg->username.empty());
  EXPECT_TRUE(cfg->password.empty());
  EXPECT_EQ(cfg->command_timeout, Config{}.command_timeout);
}

TEST(RedisConfig, ParsesPortDbAndQuery) {
  auto cfg = Config::from_url("redis://10.0.0.5:6380/3?timeout=250&connect_timeout=900");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->host, "10.0.0.5");
  EXPECT_EQ(cfg->port, 6380);
  EXPECT_EQ(cfg->db, 3);
  EXPECT_EQ(cfg->command_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(cfg->connect_timeout, std::chrono::milliseconds(900));
}

TEST(RedisConfig, PasswordOnlyAndAclUserWithPercentDecoding) {
  auto pw = Config::from_url("redis://:s3cr%40t@h");
  ASSERT_TRUE(pw) << pw.error().message;
  EXPECT_TRUE(pw->username.empty());
  EXPECT_EQ(pw->password, "s3cr@t");

  auto acl = Config::from_url("redis://alice:p%3Aw@h:1/0");
  ASSERT_TRUE(acl) << acl.error().message;
  EXPECT_EQ(acl->username, "alice");
  EXPECT_EQ(acl->password, "p:w");
}

TEST(RedisConfig, RedissTurnsTlsOnWithVerificationByDefault) {
  auto cfg = Config::from_url("rediss://cache.example.com");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_TRUE(cfg->tls);
  EXPECT_TRUE(cfg->tls_verify);
  EXPECT_TRUE(cfg->tls_ca_file.empty());

  auto off = Config::from_url("rediss://cache.example.com?verify=false&ca=/etc/ssl/ca.pem");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE(off->tls_verify);
  EXPECT_EQ(off->tls_ca_file, "/etc/ssl/ca.pem");
}

TEST(RedisConfig, Ipv6Host) {
  auto cfg = Config::from_url("redis://[::1]:7000");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->host, "::1");
  EXPECT_EQ(cfg->port, 7000);
}

TEST(RedisConfig, RejectsBadUrlsNamingTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://h", "scheme"},
      {"not a url", "URI"},
      {"redis://", "host"},
      {"redis://h:0", "port"},
      {"redis://h:70000", "port"},
      {"redis://h:12ab", "port"},
      {"redis://h:", "port"},
      {"redis://h/x", "db"},
      {"redis://h/-1", "db"},
      {"redis://h/1/2", "db"},
      {"redis://h/99999999999", "db"},
      {"redis://h?db=1", "unknown parameter 'db'"},
      {"redis://h?timeout=0", "timeout"},
      {"redis://h?timeout=soon", "timeout"},
      {"redis://h?connect_timeout=-5", "connect_timeout"},
      {"rediss://h?verify=maybe", "verify"},
      {"redis://alice@h", "password"},
      {"redis://h#frag", "fragment"},
  };
  for (const auto& [url, needle] : cases) {
    auto cfg = Config::from_url(url);
    ASSERT_FALSE(cfg) << url;
    EXPECT_NE(cfg.error().message.find(needle), std::string::npos) << url << ": " << cfg.error().message;
  }
}

TEST(RedisConfig, RedactedHidesThePasswordAndRoundTrips) {
  auto cfg = Config::from_url("rediss://alice:topsecret@h:6390/2?timeout=300&verify=false&ca=/etc/ca.pem");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const std::string redacted = cfg->redacted();
  EXPECT_EQ(redacted.find("topsecret"), std::string::npos) << redacted;
  EXPECT_EQ(redacted, "rediss://alice:***@h:6390/2?timeout=300&verify=false&ca=/etc/ca.pem");

  auto again = Config::from_url(redacted);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->username, "alice");
  EXPECT_EQ(again->password, "***");
  EXPECT_EQ(again->port, 6390);
  EXPECT_EQ(again->db, 2);
  EXPECT_EQ(again->command_timeout, std::chrono::milliseconds(300));
  EXPECT_FALSE(again->tls_verify);
  EXPECT_EQ(again->tls_ca_file, "/etc/ca.pem");

  EXPECT_EQ(Config{}.redacted(), "redis://127.0.0.1:6379");
}

TEST(RedisEncoding, CommandsAreRespArraysOfBulkStrings) {
  std::string out;
  append_command(out, Command{"SET", "k", "v"});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");

  out.clear();
  append_command(out, Command{"ECHO", ""});
  EXPECT_EQ(out, "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
}

TEST(RedisEncoding, ArgumentsAreBinarySafeAndCommandsAppend) {
  std::string out = "prefix";
  const std::string binary("a\r\n\0b", 5);
  append_command(out, Command{"ECHO", binary});
  EXPECT_EQ(out, std::string("prefix*2\r\n$4\r\nECHO\r\n$5\r\na\r\n\0b\r\n", 31));
}

TEST(RedisReplyReader, ParsesEveryReplyTypeAcrossChunks) {
  detail::ReplyReader reader;
  const std::string wire =
      std::string("+OK\r\n-ERR bad\r\n:42\r\n$-1\r\n$3\r\na") + '\0' + "b\r\n*3\r\n$1\r\nx\r\n*-1\r\n*1\r\n:7\r\n";
  // One byte at a time: the reader must resume in the middle of anything.
  std::vector<Reply> replies;
  for (char ch : wire) {
    ASSERT_TRUE(reader.feed(&ch, 1));
    for (;;) {
      auto next = reader.next();
      ASSERT_TRUE(next) << next.error().message;
      if (!*next) break;
      replies.push_back(std::move(**next));
    }
  }
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[0].type, Reply::Type::status);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_TRUE(replies[1].is_error());
  EXPECT_EQ(replies[1].str, "ERR bad");
  EXPECT_EQ(replies[2].type, Reply::Type::integer);
  EXPECT_EQ(replies[2].integer, 42);
  EXPECT_TRUE(replies[3].is_nil());
  EXPECT_EQ(replies[4].type, Reply::Type::string);
  EXPECT_EQ(replies[4].str, std::string("a\0b", 3));
  ASSERT_EQ(replies[5].type, Reply::Type::array);
  ASSERT_EQ(replies[5].elements.size(), 3u);
  EXPECT_EQ(replies[5].elements[0].str, "x");
  EXPECT_TRUE(replies[5].elements[1].is_nil());
  ASSERT_EQ(replies[5].elements[2].elements.size(), 1u);
  EXPECT_EQ(replies[5].elements[2].elements[0].integer, 7);
}

TEST(RedisReplyReader, ProtocolErrorIsReported) {
  detail::ReplyReader reader;
  ASSERT_TRUE(reader.feed("?what\r\n", 7));
  auto next = reader.next();
  ASSERT_FALSE(next);
  EXPECT_NE(next.error().message.find("protocol error"), std::string::npos) << next.error().message;
}

}  // namespace
}  // namespace frontmcp::redis
