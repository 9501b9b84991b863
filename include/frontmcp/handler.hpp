#pragma once
// Handler<R, Args...>: a user callback that is either a plain function returning
// Result<R> (or R) or a coroutine returning Task<Result<R>>. The dispatcher calls a plain
// function directly (no coroutine frame on the hot path) and awaits a coroutine.
#include <concepts>
#include <frontmcp/context.hpp>
#include <frontmcp/result.hpp>
#include <functional>
#include <type_traits>
#include <utility>

namespace frontmcp {

template <class R, class... A>
class Handler {
 public:
  using Sync = std::function<Result<R>(A...)>;
  using Async = std::function<Task<Result<R>>(A...)>;

  Handler() = default;

  template <class F>
  requires std::invocable<F&, A...> Handler(F f) {  // NOLINT: implicit on purpose, so a lambda can be assigned directly
    using Ret = std::invoke_result_t<F&, A...>;
    if constexpr (std::is_same_v<Ret, Task<Result<R>>>) {
      async_ = std::move(f);
    } else if constexpr (std::is_convertible_v<Ret, Result<R>>) {
      sync_ = [f = std::move(f)](A... a) mutable -> Result<R> { return f(std::forward<A>(a)...); };
    } else {
      static_assert(sizeof(F) == 0, "a handler returns R, Result<R> or Task<Result<R>>");
    }
  }

  explicit operator bool() const noexcept { return sync_ || async_; }
  bool is_async() const noexcept { return static_cast<bool>(async_); }
  const Sync& sync() const noexcept { return sync_; }
  const Async& async() const noexcept { return async_; }

 private:
  Sync sync_;
  Async async_;
};

}  // namespace frontmcp
