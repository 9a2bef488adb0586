#pragma once
// The RPC endpoint: HTTP/1.1 (Beast, async, keep-alive) on the caller's io_context, serving
// `POST /rpc` through a Dispatcher, the page at `/`, `/metrics` and `GET /events`. Enforces the
// security rules of docs/architecture: bearer auth or a browser session with CSRF token, Host
// allow-list, no cross-origin requests, bounded headers, bodies, time and connections.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rpc/transport/access.hpp"
#include "rpc/transport/dispatcher.hpp"
#include "rpc/transport/event_stream.hpp"
#include "rpc/transport/http_route.hpp"
#include "rpc/transport/state_files.hpp"
#include "rpc/transport/web_endpoints.hpp"

namespace btd::rpc {

struct RpcServerOptions {
    std::string address = std::string(kDefaultRpcAddress);  // an IP literal, not a host name
    std::uint16_t port = kDefaultRpcPort;  // 0 = any free port (see local_endpoint())
    // Required bearer token; nullopt disables authentication (tests, or an explicit opt-out).
    // Ignored when `access` is set.
    std::optional<std::string> auth_secret;
    // Admin secret, named tokens and browser sessions; unset: built from auth_secret alone.
    std::shared_ptr<transport::Access> access;
    // The page, login and /metrics (see rpc/transport/web_endpoints.hpp).
    transport::WebOptions web;
    // Serves `GET /events`; unset: /events is 404.
    std::shared_ptr<transport::EventStream> events;
    // Host header names accepted besides localhost, 127.0.0.1 and [::1] (e.g. "mybox.lan").
    std::vector<std::string> extra_allowed_hosts;
    // Exact Origin values accepted (e.g. "http://localhost:8080"); by default every request that
    // carries an Origin header is refused.
    std::vector<std::string> allowed_origins;
    // Further endpoints by exact path (e.g. "/transmission/rpc"); each does its own auth.
    std::map<std::string, std::shared_ptr<HttpRoute>, std::less<>> routes;
    std::size_t body_limit = 10 * 1024 * 1024;  // base64 .torrent files can be large
    // Body read from a request refused on its headers (no token, bad Host, ...), so the client
    // still reads the refusal; a larger announced body is not read and the connection closes.
    std::size_t unauthenticated_body_limit = 16 * 1024;
    std::size_t header_limit = 8 * 1024;
    // Beyond this, a new connection takes the slot of the oldest one that has not sent a valid
    // token yet (half-sent requests cannot lock out btctl); if every connection has, the new
    // one is closed at once.
    std::size_t max_connections = 64;
    // Time allowed to receive one whole request and to send a response; slow clients are dropped.
    std::chrono::milliseconds timeout = std::chrono::seconds(30);
    // Time allowed for the headers of a request, counted from the end of the previous response
    // (so it also bounds an idle keep-alive connection). The shorter of this and `timeout` applies.
    std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
};

class RpcServer {
  public:
    // Binds and listens; throws boost::system::system_error if the address cannot be bound.
    // The dispatcher must outlive the server and any async method still running.
    RpcServer(boost::asio::io_context& io, RpcServerOptions options, const Dispatcher& dispatcher);
    ~RpcServer();  // stop()
    RpcServer(const RpcServer&) = delete;
    RpcServer& operator=(const RpcServer&) = delete;

    void start();  // begins accepting connections
    void stop();   // closes the listener and every open connection; idempotent

    boost::asio::ip::tcp::endpoint local_endpoint() const;  // the real port when given port 0
    std::size_t connection_count() const;

    struct State;  // shared with connections (implementation detail)

  private:
    std::shared_ptr<State> state_;
};

}  // namespace btd::rpc
