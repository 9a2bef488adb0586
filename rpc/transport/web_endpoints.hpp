#pragma once
// The browser side of the RPC listener, decided on a request's headers alone (no body is read):
// the page's static files at `/`, login/logout with an expiring session cookie, `/session` (the
// page's CSRF token), `/metrics`; and the authorisation of `POST /rpc` and `GET /events` by bearer
// token or session cookie. Network thread only.
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "rpc/transport/access.hpp"
#include "rpc/transport/http_route.hpp"

namespace btd::rpc::transport {

struct WebOptions {
    bool metrics_public = false;           // /metrics without a token (config metrics_public)
    std::function<std::string()> metrics;  // the exposition text; unset: /metrics is 404
};

// Answers the page's files, /login, /logout, /session and /metrics; nullopt for other paths.
std::optional<HttpResponse> answer_web_request(const HttpRequest& request, Access& access,
                                               const WebOptions& options);

// Who sent a request to /rpc or /events: a bearer token (Authorization) or a session cookie.
// A cookie-authenticated request that can change state (`state_changing`) must also carry the
// session's X-CSRF-Token and an Origin naming this server (no Origin: refused; a browser always
// sends one on a POST). Returns the caller, or the refusal to send (401 or 403).
std::variant<Caller, HttpResponse> authorize(const HttpRequest& request, Access& access,
                                             bool state_changing);

// True if `origin` is "http://<host>" for the request's Host header (same origin).
bool same_origin(std::string_view origin, std::string_view host);

}  // namespace btd::rpc::transport
