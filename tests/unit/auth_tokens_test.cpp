// The reference server's token file (`TOKEN [PRINCIPAL]` per line) and its bearer check.
#include "auth_tokens.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using frontmcp_server::AuthToken;
using frontmcp_server::bearer_check;
using frontmcp_server::parse_token_file;
using frontmcp_server::TokenFileError;

TEST(TokenFile, OneBareTokenIsTheAnonymousPrincipalAsBefore) {
  EXPECT_EQ(parse_token_file("s3cret\n"), (std::vector<AuthToken>{{"s3cret", ""}}));
  EXPECT_EQ(parse_token_file("s3cret"), (std::vector<AuthToken>{{"s3cret", ""}}));
  EXPECT_EQ(parse_token_file("s3cret  \r\n"), (std::vector<AuthToken>{{"s3cret", ""}}));
}

TEST(TokenFile, LinesNameTokenAndPrincipal) {
  auto t = parse_token_file("# users\n\ntok-a alice\r\n  tok-b\tbob  \ntok-c\n");
  EXPECT_EQ(t, (std::vector<AuthToken>{{"tok-a", "alice"}, {"tok-b", "bob"}, {"tok-c", ""}}));
}

TEST(TokenFile, RejectsEmptyFilesExtraFieldsAndRepeatedTokens) {
  for (const char* bad : {"", "\n\n", "# only a comment\n", "tok alice extra\n", "a x\nb y\na z\n"}) {
    EXPECT_THROW(parse_token_file(bad), TokenFileError) << bad;
  }
  try {
    parse_token_file("ok p\nsecret-token p q\n");
    FAIL();
  } catch (const TokenFileError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("line 2"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret-token"), std::string::npos) << "the message must not show a token: " << what;
  }
}

struct FakeRequest {
  std::string authorization;
  frontmcp::AuthRequest req() const {
    frontmcp::AuthRequest r;
    r.lookup = [](const void* ctx, std::string_view name) -> std::string_view {
      return name == "Authorization" ? std::string_view(static_cast<const FakeRequest*>(ctx)->authorization)
                                     : std::string_view();
    };
    r.context = this;
    return r;
  }
};

TEST(BearerCheck, EachTokenIsAllowedAsItsPrincipal) {
  auto check = bearer_check({{"tok-a", "alice"}, {"tok-b", "bob"}, {"tok-c", ""}});
  auto a = check(FakeRequest{"Bearer tok-a"}.req());
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.principal, "alice");
  auto b = check(FakeRequest{"bearer tok-b"}.req());
  EXPECT_TRUE(b.allowed);
  EXPECT_EQ(b.principal, "bob");
  auto c = check(FakeRequest{"Bearer tok-c"}.req());
  EXPECT_TRUE(c.allowed);
  EXPECT_EQ(c.principal, "");
}

TEST(BearerCheck, UnknownPrefixOrMissingTokensAreDenied) {
  auto check = bearer_check({{"tok-a", "alice"}});
  for (const char* h : {"", "Bearer tok", "Bearer tok-aa", "Bearer alice", "Basic dG9rLWE="}) {
    auto d = check(FakeRequest{h}.req());
    EXPECT_FALSE(d.allowed) << h;
    EXPECT_TRUE(d.principal.empty());
    EXPECT_NE(d.www_authenticate.find("Bearer"), std::string::npos);
  }
}

TEST(BearerCheck, ConstantTimeEqual) {
  using frontmcp_server::constant_time_equal;
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

}  // namespace
