#pragma once
// One accepted HTTP connection of the RPC server (internal to rpc/).
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "rpc/transport/http_server.hpp"

namespace btd::rpc {

namespace http = boost::beast::http;

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
  public:
    HttpConnection(boost::asio::ip::tcp::socket socket, std::shared_ptr<RpcServer::State> state,
                   std::uint64_t id);
    ~HttpConnection();
    void start();
    void close();  // safe to call repeatedly
    // True once a request on this connection passed the Host, Origin and token checks; such a
    // connection keeps its slot when the server is full (see RpcServerOptions::max_connections).
    bool authenticated() const { return authenticated_; }

    using Request = http::request<http::string_body>;
    using Response = http::response<http::string_body>;

  private:
    void read_request();
    void on_header(boost::beast::error_code ec);
    void read_body();
    void on_read(boost::beast::error_code ec);
    std::optional<Response> answer_from_headers(const Request& request);
    void answer_early(Response response);
    std::optional<Response> accept_events(const Request& request);
    void hand_over_to_events(const Request& request);
    void drain_then_close();
    void drain_some();
    void serve_route(HttpRoute& route, Request& request);
    void dispatch(std::string body, unsigned version, bool keep_alive);
    void send_text(http::status status, std::string text, unsigned version, bool keep_alive);
    void send(Response response);
    void on_written(boost::beast::error_code ec, bool keep_alive);

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<Response> response_;       // kept alive until the write completes
    std::optional<Response> early_answer_;   // sent once the small body of its request is read
    std::array<char, 4096> drain_buffer_{};  // discards unread bytes before closing
    std::size_t drained_ = 0;
    std::shared_ptr<HttpRoute> route_;  // serves the current request instead of the dispatcher
    bool authenticated_ = false;
    bool events_request_ = false;  // the current request is `GET /events`, to hand over
    transport::Scope scope_ = transport::Scope::none;  // of the current /rpc request
    bool drain_on_close_ = false;  // the request's body was not read: drain it before closing
    std::shared_ptr<RpcServer::State> state_;
    std::uint64_t id_;
    bool closed_ = false;
};

}  // namespace btd::rpc
