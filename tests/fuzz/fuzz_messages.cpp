// libFuzzer target: everything that reads untrusted bytes before a handler runs —
// JSON-RPC bodies, message classification, initialize params, event ids, URI templates,
// and the JSON Schema validator (a schema line, then an instance: compiled, validated on
// both paths, which must agree).
// Built with clang (-fsanitize=fuzzer,address,undefined) by `make fuzz` / `make test`.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "protocol/jsonrpc.hpp"
#include "protocol/versions.hpp"
#include "registry/uri_template.hpp"
#include "schema/json_schema.hpp"
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

  if (split != std::string_view::npos) {
    boost::system::error_code ec;
    json::value schema = json::parse(text.substr(0, split), ec);
    json::value instance = ec ? json::value() : json::parse(text.substr(split + 1), ec);
    if (!ec) {
      if (auto v = schema::Validator::compile(schema)) {
        std::vector<schema::Violation> violations;
        bool fast = v->validate(instance);
        bool full = v->validate(instance, violations);
        // The two paths must agree, and a failure must say why.
        if (fast != full || (!full && violations.empty())) std::abort();
        (void)schema::Validator::describe(violations);
      }
    }
  }
  return 0;
}
