#include "auth_tokens.hpp"

#include <algorithm>

namespace frontmcp_server {

namespace {
bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

/// The next blank-separated field of `line` (consumed), "" at the end.
std::string_view next_field(std::string_view& line) {
  line = trim(line);
  std::size_t end = 0;
  while (end < line.size() && !blank(line[end])) ++end;
  auto field = line.substr(0, end);
  line.remove_prefix(end);
  return field;
}
}  // namespace

std::vector<AuthToken> parse_token_file(std::string_view content) {
  std::vector<AuthToken> out;
  std::size_t number = 0;
  while (!content.empty()) {
    auto nl = content.find('\n');
    auto line = trim(content.substr(0, nl));
    content.remove_prefix(nl == std::string_view::npos ? content.size() : nl + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    AuthToken t;
    t.token = next_field(line);
    t.principal = next_field(line);
    if (!trim(line).empty()) {
      throw TokenFileError("line " + std::to_string(number) + " has more than two fields (expected TOKEN [PRINCIPAL])");
    }
    if (std::any_of(out.begin(), out.end(), [&](const AuthToken& o) { return o.token == t.token; })) {
      throw TokenFileError("line " + std::to_string(number) + " repeats a token of an earlier line");
    }
    out.push_back(std::move(t));
  }
  if (out.empty()) throw TokenFileError("holds no token");
  return out;
}

bool constant_time_equal(std::string_view expected, std::string_view given) noexcept {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0;
}

std::function<frontmcp::AuthDecision(const frontmcp::AuthRequest&)> bearer_check(std::vector<AuthToken> tokens) {
  return [tokens = std::move(tokens)](const frontmcp::AuthRequest& req) {
    auto given = req.bearer_token();
    if (given.empty()) {
      return frontmcp::AuthDecision::deny(R"(Bearer realm="frontmcp")", "Unauthorized: a bearer token is required");
    }
    // Every token is compared (no early exit), so the time does not tell which one matched.
    const AuthToken* match = nullptr;
    for (const auto& t : tokens) {
      bool equal = constant_time_equal(t.token, given);
      if (equal && !match) match = &t;
    }
    if (!match) {
      return frontmcp::AuthDecision::deny(R"(Bearer realm="frontmcp", error="invalid_token")",
                                          "Unauthorized: invalid bearer token");
    }
    return frontmcp::AuthDecision::allow(match->principal);
  };
}

}  // namespace frontmcp_server
