#pragma once
// Result<T>: the error model of frontmcp's hot paths (C++20 has no std::expected).
// An Error carries a JSON-RPC error code, so it can travel to the client unchanged.
#include <boost/json/value.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace frontmcp {

namespace json = boost::json;

/// JSON-RPC 2.0 and MCP error codes.
namespace errc {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
/// Transport-level failures (406, 409, 415 ...): the TypeScript SDK uses -32000.
inline constexpr int kServerError = -32000;
/// Unknown or terminated session (404). The TypeScript SDK's server uses -32001 for this
/// too, so clients that read the code keep working.
inline constexpr int kSessionNotFound = -32001;
/// resources/read of a URI nobody serves.
inline constexpr int kResourceNotFound = -32002;
/// A server->client request that got no answer in time. Distinct from kSessionNotFound
/// (the TypeScript SDK uses -32001 for both): a handler that passes this error on to its
/// client must not read as "your session is gone". -32003 is in JSON-RPC's
/// implementation-defined range and unused by MCP (-32002 resource not found, -32020..-32022
/// and -32042 are taken).
inline constexpr int kRequestTimeout = -32003;
/// MCP 2026-07-28: a header disagrees with the body (HeaderMismatchError).
inline constexpr int kHeaderMismatch = -32020;
/// MCP 2026-07-28: a handler needs a client capability the request did not declare
/// (data.requiredCapabilities lists it, as a ClientCapabilities object); HTTP 400.
inline constexpr int kMissingRequiredClientCapability = -32021;
/// MCP 2026-07-28: the request's protocol version is not served (data.supported, .requested).
inline constexpr int kUnsupportedProtocolVersion = -32022;
/// Never sent: what Context::request returns on a stateless request whose input the
/// client has not provided yet. The round then ends with resultType "input_required"
/// whatever the handler returns (docs/protocol.md). Outside JSON-RPC's reserved range.
inline constexpr int kInputRequired = -31990;
}  // namespace errc

struct Error {
  int code = errc::kInternalError;
  std::string message;
  json::value data;  // null when absent

  static Error invalid_params(std::string msg) { return {errc::kInvalidParams, std::move(msg), {}}; }
  static Error internal(std::string msg) { return {errc::kInternalError, std::move(msg), {}}; }
  static Error method_not_found(std::string msg) { return {errc::kMethodNotFound, std::move(msg), {}}; }
};

/// Holds either a T or an E (by default an Error). Cheap to move; never throws unless
/// value() is called on an error (a bug, so it throws std::logic_error).
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit
  /// Result<object> -> Result<value> and the like.
  template <class U>
  requires(!std::is_same_v<U, T> && std::is_constructible_v<T, U&&>) Result(Result<U, E>&& other)  // NOLINT implicit
      : v_(other ? std::variant<T, E>(std::in_place_index<0>, T(std::move(other).value()))
                 : std::variant<T, E>(std::in_place_index<1>, std::move(other).error())) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  void check() const;
  std::variant<T, E> v_;
};

[[noreturn]] void throw_bad_result_access(const Error& e);
/// value() of a Result holding an error that is not an Error.
[[noreturn]] void throw_bad_result_access();

template <class T, class E>
void Result<T, E>::check() const {
  if (v_.index() == 0) return;
  if constexpr (std::is_same_v<E, Error>) {
    throw_bad_result_access(std::get<1>(v_));
  } else {
    throw_bad_result_access();
  }
}

/// Result of an operation that yields nothing.
struct Ok {};
using Status = Result<Ok>;

}  // namespace frontmcp
