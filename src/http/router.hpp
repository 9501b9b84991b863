#pragma once
// Routing one request of a Site (router.cpp): health, readiness and metrics probes (Host
// checked on a loopback bind), then for the Site's routes DNS-rebinding protection, CORS
// (and preflight), the authorization hook, and 503 while draining unless the Site serves on;
// then the route's handler. Beast types: include only from src/http.
#include "http/http_io.hpp"

namespace frontmcp::http {

net::awaitable<Answer> route(Exchange& ex);

}  // namespace frontmcp::http
