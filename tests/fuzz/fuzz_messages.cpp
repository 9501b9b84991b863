// libFuzzer target: everything that reads untrusted bytes before a handler runs —
// JSON-RPC bodies, message classification, initialize params, event ids, URI templates.
// Built with clang (-fsanitize=fuzzer,address,undefined) by `make fuzz` / `make test`.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/jsonrpc.hpp"
#include "protocol/versions.hpp"
#include "registry/uri_template.hpp"
#include "session/session_state.hpp"
#include "session/stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frontmcp;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto body = protocol::parse_body(text);
  if (body) {
    for (const auto& v : body->messages) {
      auto m = protocol::classify(v);
      if (!m) continue;
      // Builders must accept whatever classify accepted.
      if (m->id) (void)json::serialize(protocol::make_error(*m->id, Error::internal("x")));
      if (m->params) {
        if (auto pv = m->params->if_contains("protocolVersion"); pv && pv->is_string()) {
          (void)protocol::negotiate_version(pv->get_string());
        }
        if (auto st = session::SessionState::from_json(*m->params)) (void)st->to_json();
      }
    }
  }

  std::uint64_t index = 0, seq = 0;
  (void)session::parse_event_id(text, index, seq);

  auto split = text.find('\n');
  auto tpl = registry::UriTemplate::parse(text.substr(0, split));
  if (tpl && split != std::string_view::npos) {
    if (auto vars = tpl->match(text.substr(split + 1))) (void)tpl->match(tpl->expand(*vars));
  }
  return 0;
}
