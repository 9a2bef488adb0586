#include "core/session/listener.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <stdexcept>

namespace btd {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
}

struct Listener::Acceptor {
    explicit Acceptor(asio::io_context& io) : acceptor(io) {}
    tcp::acceptor acceptor;
};

Listener::Listener(asio::io_context& io, Route route, Admit admit)
    : io_(io), route_(std::move(route)), admit_(std::move(admit)) {}

Listener::~Listener() {
    *alive_ = false;
    close();
}

std::uint16_t Listener::listen(const std::string& address, std::uint16_t port) {
    std::vector<tcp::endpoint> endpoints;
    error_code ec;
    if (address.empty() || address == "0.0.0.0" || address == "::" || address == "*") {
        endpoints.emplace_back(tcp::v4(), port);
        endpoints.emplace_back(tcp::v6(), port);
    } else {
        auto addr = asio::ip::make_address(address, ec);
        if (ec) throw std::runtime_error("invalid listen address " + address);
        endpoints.emplace_back(addr, port);
    }
    std::uint16_t bound = port;
    for (auto ep : endpoints) {
        if (bound) ep.port(bound);  // IPv6 uses the same port IPv4 got
        auto a = std::make_shared<Acceptor>(io_);
        a->acceptor.open(ep.protocol(), ec);
        if (ec) {
            if (ep.address().is_v6() && endpoints.size() > 1) continue;  // no IPv6 here: fine
            throw std::runtime_error("cannot open listen socket: " + ec.message());
        }
        a->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (ep.address().is_v6()) a->acceptor.set_option(asio::ip::v6_only(true), ec);
        a->acceptor.bind(ep, ec);
        if (ec) {
            if (ep.address().is_v6() && endpoints.size() > 1) {
                spdlog::warn("not listening on IPv6 port {}: {}", ep.port(), ec.message());
                continue;
            }
            throw std::runtime_error("cannot listen on port " + std::to_string(ep.port()) + ": " +
                                     ec.message());
        }
        a->acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) throw std::runtime_error("cannot listen: " + ec.message());
        bound = a->acceptor.local_endpoint().port();
        acceptors_.push_back(a);
        accept(a);
    }
    return bound;
}

void Listener::close() {
    for (auto& a : acceptors_) {
        error_code ignored;
        a->acceptor.close(ignored);
    }
    acceptors_.clear();
}

void Listener::accept(const std::shared_ptr<Acceptor>& acceptor) {
    acceptor->acceptor.async_accept(
        [this, acceptor, alive = std::weak_ptr<bool>(alive_)](const error_code& ec, tcp::socket s) {
            if (!alive.lock() || !acceptor->acceptor.is_open()) return;
            if (!ec) {
                if (admit_()) read_handshake(std::move(s));
            } else if (ec == asio::error::operation_aborted) {
                return;
            }
            accept(acceptor);
        });
}

void Listener::read_handshake(tcp::socket socket) {
    struct Pending {
        Pending(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
        tcp::socket socket;
        asio::steady_timer timer;
        std::array<char, wire::kHandshakeSize> buf{};
    };
    auto p = std::make_shared<Pending>(std::move(socket));
    p->timer.expires_after(kHandshakeTimeout);
    p->timer.async_wait([p](const error_code& ec) {
        if (ec) return;
        error_code ignored;
        p->socket.close(ignored);
    });
    asio::async_read(
        p->socket, asio::buffer(p->buf),
        [this, p, alive = std::weak_ptr<bool>(alive_)](const error_code& ec, std::size_t) {
            p->timer.cancel();
            if (ec || !alive.lock()) return;
            auto hs = wire::decode_handshake({p->buf.data(), p->buf.size()});
            if (!hs) return;  // not BitTorrent: just drop it
            route_(std::move(p->socket), *hs);
        });
}

}  // namespace btd
