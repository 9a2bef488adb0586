#include "rpc/transport/http_server.hpp"

#include <spdlog/spdlog.h>

#include "rpc/transport/http_connection.hpp"
#include "rpc/transport/http_server_state.hpp"

namespace btd::rpc {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Frees a slot for a new connection by closing the oldest one that has not authenticated;
// false if every open connection has (ids grow, so the smallest is the oldest).
bool evict_unauthenticated(RpcServer::State& state) {
    std::shared_ptr<HttpConnection> oldest;
    std::uint64_t oldest_id = 0;
    for (auto& [id, weak] : state.connections) {
        auto connection = weak.lock();
        if (!connection || connection->authenticated()) continue;
        if (!oldest || id < oldest_id) {
            oldest = std::move(connection);
            oldest_id = id;
        }
    }
    if (!oldest) return false;
    spdlog::debug("rpc: full; closing connection {} that sent no valid token yet", oldest_id);
    oldest->close();
    return true;
}

void accept_next(const std::shared_ptr<RpcServer::State>& state) {
    if (state->stopped) return;
    state->acceptor.async_accept([state](boost::system::error_code ec, tcp::socket socket) {
        if (state->stopped || ec == asio::error::operation_aborted) return;
        if (ec) {
            // Out of descriptors or similar: retry shortly instead of spinning.
            spdlog::warn("rpc: accept failed: {}", ec.message());
            state->retry_timer.expires_after(std::chrono::milliseconds(100));
            state->retry_timer.async_wait([state](boost::system::error_code wait_ec) {
                if (!wait_ec) accept_next(state);
            });
            return;
        }
        if (state->connections.size() >= state->options.max_connections &&
            !evict_unauthenticated(*state)) {
            spdlog::debug("rpc: too many connections, closing a new one");
            boost::system::error_code ignored;
            socket.close(ignored);
        } else {
            auto id = state->next_id++;
            auto connection = std::make_shared<HttpConnection>(std::move(socket), state, id);
            state->connections.emplace(id, connection);
            connection->start();
        }
        accept_next(state);
    });
}

}  // namespace

RpcServer::RpcServer(asio::io_context& io, RpcServerOptions options, const Dispatcher& dispatcher)
    : state_(std::make_shared<State>(io, std::move(options), dispatcher)) {
    tcp::endpoint endpoint(asio::ip::make_address(state_->options.address), state_->options.port);
    auto& acceptor = state_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
}

RpcServer::~RpcServer() {
    try {
        stop();
    } catch (const std::exception& e) {  // a destructor must not throw
        spdlog::warn("stopping the RPC server: {}", e.what());
    }
}

void RpcServer::start() {
    accept_next(state_);
}

void RpcServer::stop() {
    if (state_->stopped) return;
    state_->stopped = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    state_->retry_timer.cancel();
    auto connections = std::move(state_->connections);  // close() unregisters; iterate a copy
    state_->connections.clear();
    for (auto& [id, weak] : connections)
        if (auto connection = weak.lock()) connection->close();
}

asio::ip::tcp::endpoint RpcServer::local_endpoint() const {
    boost::system::error_code ec;
    return state_->acceptor.local_endpoint(ec);
}

std::size_t RpcServer::connection_count() const {
    return state_->connections.size();
}

}  // namespace btd::rpc
