#pragma once
// A further endpoint on the RPC listener besides `POST /rpc` (the Transmission-compatible
// /transmission/rpc). The server applies its Host and Origin checks first; the route does its
// own authentication and answers everything else. Both calls run on the network thread.
#include <boost/beast/http.hpp>
#include <functional>
#include <optional>

namespace btd::rpc {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class HttpRoute {
  public:
    virtual ~HttpRoute() = default;
    // A refusal decided on the headers alone (credentials, CSRF token, method), or nullopt when
    // the request may be served.
    virtual std::optional<HttpResponse> check_headers(const HttpRequest& request) const = 0;
    // Answers a request that passed check_headers. `reply` runs exactly once, maybe later; the
    // response carries the request's version and keep-alive.
    virtual void serve(HttpRequest request, std::function<void(HttpResponse)> reply) = 0;
};

}  // namespace btd::rpc
