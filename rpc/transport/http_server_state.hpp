#pragma once
// State shared by the RpcServer and its connections, so late callbacks never touch a destroyed
// server (internal to rpc/).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "rpc/transport/http_server.hpp"

namespace btd::rpc {

class HttpConnection;

struct RpcServer::State {
    State(boost::asio::io_context& io, RpcServerOptions opts, const Dispatcher& d)
        : options(std::move(opts)), dispatcher(&d), acceptor(io), retry_timer(io) {
        access = options.access ? options.access
                                : std::make_shared<transport::Access>(options.auth_secret, nullptr);
    }

    RpcServerOptions options;
    std::shared_ptr<transport::Access> access;
    const Dispatcher* dispatcher;
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer retry_timer;  // backs off after accept errors (e.g. EMFILE)
    std::unordered_map<std::uint64_t, std::weak_ptr<HttpConnection>> connections;
    std::uint64_t next_id = 1;
    bool stopped = false;
};

}  // namespace btd::rpc
