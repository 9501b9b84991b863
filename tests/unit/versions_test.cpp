// Protocol version negotiation.
#include "protocol/versions.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using namespace frontmcp::protocol;

TEST(Versions, SupportedListIsNewestFirstAndStartsWithLatest) {
  EXPECT_EQ(kSupportedVersions.front(), kLatestVersion);
  EXPECT_EQ(kLatestVersion, "2025-11-25");
  for (std::size_t i = 1; i < kSupportedVersions.size(); ++i) {
    EXPECT_GT(kSupportedVersions[i - 1], kSupportedVersions[i]);
  }
  std::set<std::string_view> all(kSupportedVersions.begin(), kSupportedVersions.end());
  EXPECT_EQ(all, (std::set<std::string_view>{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}));
}

TEST(Versions, NegotiateReturnsEachSupportedVersionUnchanged) {
  for (auto v : kSupportedVersions) {
    EXPECT_EQ(negotiate_version(v), v);
    // Not merely equal: a view into the constant table, safe to keep.
    EXPECT_EQ(negotiate_version(std::string(v)).data(), v.data());
  }
}

TEST(Versions, NegotiateAnswersLatestForUnknownVersions) {
  for (const char* v : {"1999-01-01", "2026-01-01", "", "2025-06-1", "2025-06-18 ", "latest"}) {
    EXPECT_EQ(negotiate_version(v), kLatestVersion) << v;
  }
}

TEST(Versions, IsSupported) {
  for (auto v : kSupportedVersions) EXPECT_TRUE(is_supported_version(v)) << v;
  EXPECT_FALSE(is_supported_version("2024-10-07"));
  EXPECT_FALSE(is_supported_version(""));
  EXPECT_TRUE(is_supported_version(kAssumedVersionWithoutHeader));
  EXPECT_EQ(kAssumedVersionWithoutHeader, "2025-03-26");
}

TEST(Versions, BatchesForbiddenFrom20250618On) {
  EXPECT_TRUE(forbids_batches("2025-11-25"));
  EXPECT_TRUE(forbids_batches("2025-06-18"));
  EXPECT_FALSE(forbids_batches("2025-03-26"));
  EXPECT_FALSE(forbids_batches("2024-11-05"));
}

}  // namespace
