#pragma once
// Helpers for running coroutines in unit tests: a fresh io_context, a bounded run, no
// sockets and no threads.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <frontmcp/context.hpp>
#include <optional>
#include <stdexcept>

namespace frontmcp::test {

/// Awaits `task` and stores its value. A free function rather than a lambda: the
/// coroutine frame must not refer to a temporary closure (g++ 12).
template <class T>
Task<void> store_into(Task<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

/// Spawns `task` on `ioc`; `*done` becomes true when it finished, `*error` holds what it
/// threw. Works for any T (co_spawn itself needs a default-constructible T).
template <class T>
void spawn(boost::asio::io_context& ioc, Task<T> task, std::optional<T>* out, bool* done, std::exception_ptr* error) {
  boost::asio::co_spawn(ioc, store_into(std::move(task), out), [done, error](std::exception_ptr e) {
    *done = true;
    *error = e;
  });
}

/// Runs `task` on a fresh io_context for at most `limit`; throws if it did not finish
/// in time, rethrows what it threw.
template <class T>
T run_task(Task<T> task, std::chrono::milliseconds limit = std::chrono::milliseconds{2000}) {
  boost::asio::io_context ioc;
  std::optional<T> out;
  bool done = false;
  std::exception_ptr error;
  spawn(ioc, std::move(task), &out, &done, &error);
  ioc.run_for(limit);
  if (!done) throw std::runtime_error("task did not complete in time");
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

}  // namespace frontmcp::test
