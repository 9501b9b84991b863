// The one entry of every transport into the dispatcher (dispatcher.hpp): what a classified
// client message does, and "store the session's changes before the response goes out".
#include <boost/asio/co_spawn.hpp>

#include "protocol/dispatcher.hpp"
#include "util/log.hpp"

namespace frontmcp::protocol {

namespace net = boost::asio;
using session::Session;

void RequestGroup::one_done() {
  if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1 && stream) stream->finish();
}

Task<Served> Dispatcher::serve(std::shared_ptr<Session> session, json::value msg,
                               std::shared_ptr<session::Outbound> out) {
  Served served;
  served.response = co_await handle_request(session, std::move(msg), std::move(out));
  if (served.response && session && directory_.needs_commit(*session)) {
    auto st = co_await directory_.commit(session);
    if (!st) served.failure = std::move(st).error();
  }
  co_return served;
}

/// A request run as its own task: its answer (or the failure to store what it changed, as
/// a JSON-RPC error: the stream it answers on has its HTTP status already) goes to `out`.
Task<void> Dispatcher::serve_spawned(Dispatcher& d, std::shared_ptr<Session> session, json::value msg,
                                     std::shared_ptr<session::Outbound> out, std::shared_ptr<RequestGroup> group) {
  json::value id = msg.as_object().contains("id") ? msg.as_object().at("id") : json::value();
  {
    Session::Serving serving(*session);  // a drain keeps the session's streams until answered
    auto served = co_await d.serve(session, std::move(msg), out);
    if (served.failure) {
      out->send_response(make_error(id, session::to_error(*served.failure)));
    } else if (served.response) {
      out->send_response(*served.response);
    }
  }
  if (group) group->one_done();
}

void Dispatcher::accept(const std::shared_ptr<Session>& session, const Message& m, json::value msg,
                        std::shared_ptr<session::Outbound> out, const net::any_io_executor& ex,
                        std::shared_ptr<RequestGroup> group) {
  switch (m.kind) {
    case MessageKind::request:
      if (m.method == "initialize") {
        if (session->initialized()) {
          out->send_response(
              make_error(*m.id, Error{errc::kInvalidRequest, "Invalid Request: Server already initialized", {}}));
        } else {
          auto r = initialize(*session, m.params);
          out->send_response(r ? make_result(*m.id, std::move(r).value()) : make_error(*m.id, r.error()));
        }
        if (group) group->one_done();
        return;
      }
      net::co_spawn(ex, serve_spawned(*this, session, std::move(msg), std::move(out), std::move(group)),
                    util::LogEscaped{"request task"});
      return;
    case MessageKind::notification:
      handle_notification(session, m);
      return;
    case MessageKind::response:
    case MessageKind::error_response:
      handle_response(session, m);
      return;
  }
}

}  // namespace frontmcp::protocol
