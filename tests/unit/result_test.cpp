// Result<T>, Error, Status, log levels and Handler<R, A...>.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <frontmcp/context.hpp>
#include <frontmcp/handler.hpp>
#include <frontmcp/log_level.hpp>
#include <frontmcp/options.hpp>
#include <frontmcp/result.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace {

namespace json = boost::json;
using namespace frontmcp;

TEST(Result, HoldsAValue) {
  Result<int> r = 42;
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  r.value() = 7;
  EXPECT_EQ(*r, 7);
}

TEST(Result, ArrowReachesMembers) {
  Result<std::string> r = std::string("hello");
  EXPECT_EQ(r->size(), 5u);
  const Result<std::string>& cr = r;
  EXPECT_EQ(cr->front(), 'h');
  EXPECT_EQ(*cr, "hello");
}

TEST(Result, HoldsAnError) {
  Result<int> r = Error{errc::kInvalidParams, "bad", json::value("detail")};
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, -32602);
  EXPECT_EQ(r.error().message, "bad");
  EXPECT_EQ(r.error().data, json::value("detail"));
}

TEST(Result, ValueOnAnErrorThrowsLogicError) {
  Result<int> r = Error::internal("it broke");
  EXPECT_THROW((void)r.value(), std::logic_error);
  const Result<int>& cr = r;
  EXPECT_THROW((void)cr.value(), std::logic_error);
  EXPECT_THROW((void)std::move(r).value(), std::logic_error);
  Result<std::string> s = Error::internal("x");
  EXPECT_THROW((void)s->size(), std::logic_error);
  EXPECT_THROW((void)*s, std::logic_error);
}

TEST(Result, LogicErrorCarriesTheErrorMessage) {
  Result<int> r = Error{-1, "the reason", {}};
  try {
    (void)r.value();
    FAIL() << "no throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("the reason"), std::string::npos) << e.what();
  }
}

TEST(Result, MoveOutValueAndError) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
  Result<int> e = Error{-7, "moved", {}};
  Error err = std::move(e).error();
  EXPECT_EQ(err.code, -7);
  EXPECT_EQ(err.message, "moved");
}

TEST(Result, ConvertsObjectResultToValueResult) {
  Result<json::object> ok = json::object{{"a", 1}};
  Result<json::value> v = std::move(ok);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, json::value(json::object{{"a", 1}}));

  Result<json::object> bad = Error{errc::kMethodNotFound, "nope", json::object{{"k", 1}}};
  Result<json::value> ve = std::move(bad);
  ASSERT_FALSE(ve);
  EXPECT_EQ(ve.error().code, -32601);
  EXPECT_EQ(ve.error().message, "nope");
  EXPECT_EQ(ve.error().data, json::value(json::object{{"k", 1}}));
}

TEST(Result, ErrorDataDefaultsToNull) {
  Error e;
  EXPECT_EQ(e.code, errc::kInternalError);
  EXPECT_TRUE(e.data.is_null());
  EXPECT_TRUE(e.message.empty());
}

TEST(Result, ErrorFactories) {
  EXPECT_EQ(Error::invalid_params("a").code, -32602);
  EXPECT_EQ(Error::internal("b").code, -32603);
  EXPECT_EQ(Error::method_not_found("c").code, -32601);
  EXPECT_EQ(Error::invalid_params("a").message, "a");
  EXPECT_TRUE(Error::internal("b").data.is_null());
}

TEST(Result, ErrorCodesMatchTheSpec) {
  EXPECT_EQ(errc::kParseError, -32700);
  EXPECT_EQ(errc::kInvalidRequest, -32600);
  EXPECT_EQ(errc::kMethodNotFound, -32601);
  EXPECT_EQ(errc::kInvalidParams, -32602);
  EXPECT_EQ(errc::kInternalError, -32603);
  EXPECT_EQ(errc::kServerError, -32000);
  EXPECT_EQ(errc::kResourceNotFound, -32002);
}

TEST(Result, StatusOk) {
  Status ok = Ok{};
  EXPECT_TRUE(ok);
  Status bad = Error::internal("x");
  EXPECT_FALSE(bad);
}

// ------------------------------------------------------------------ log levels

TEST(LogLevel, NamesRoundTrip) {
  const char* names[] = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
  for (int i = 0; i < 8; ++i) {
    auto level = static_cast<LogLevel>(i);
    EXPECT_EQ(to_string(level), names[i]);
    EXPECT_EQ(parse_log_level(names[i]), level);
  }
}

TEST(LogLevel, OrderedLowestFirst) {
  EXPECT_LT(LogLevel::debug, LogLevel::info);
  EXPECT_LT(LogLevel::warning, LogLevel::error);
  EXPECT_LT(LogLevel::alert, LogLevel::emergency);
}

TEST(LogLevel, UnknownNamesAreRejected) {
  for (const char* n : {"", "warn", "Warning", "ERROR", "fatal", "debug "}) {
    EXPECT_FALSE(parse_log_level(n).has_value()) << n;
  }
}

TEST(DeploymentMode, Names) {
  EXPECT_EQ(to_string(DeploymentMode::standalone), "standalone");
  EXPECT_EQ(to_string(DeploymentMode::distributed), "distributed");
  EXPECT_EQ(to_string(DeploymentMode::serverless), "serverless");
}

// --------------------------------------------------------------------- Handler

using H = Handler<int, int>;

TEST(Handler, EmptyByDefault) {
  H h;
  EXPECT_FALSE(static_cast<bool>(h));
  EXPECT_FALSE(h.is_async());
}

TEST(Handler, PlainValueFunctionIsSync) {
  H h = [](int x) { return x * 2; };
  ASSERT_TRUE(static_cast<bool>(h));
  EXPECT_FALSE(h.is_async());
  auto r = h.sync()(21);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
}

TEST(Handler, ResultFunctionIsSync) {
  H h = [](int x) -> Result<int> {
    if (x < 0) return Error::invalid_params("negative");
    return x;
  };
  EXPECT_FALSE(h.is_async());
  EXPECT_EQ(*h.sync()(3), 3);
  EXPECT_EQ(h.sync()(-1).error().code, -32602);
}

TEST(Handler, CoroutineIsAsync) {
  H h = [](int x) -> Task<Result<int>> { co_return x + 1; };
  ASSERT_TRUE(static_cast<bool>(h));
  EXPECT_TRUE(h.is_async());
  EXPECT_FALSE(static_cast<bool>(h.sync()));
}

TEST(Handler, MutableStateIsKept) {
  int calls = 0;
  H h = [&calls, n = 0](int x) mutable {
    ++calls;
    return x + ++n;
  };
  EXPECT_EQ(*h.sync()(10), 11);
  EXPECT_EQ(*h.sync()(10), 12);
  EXPECT_EQ(calls, 2);
}

}  // namespace
