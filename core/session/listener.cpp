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
// A failing accept() (EMFILE, ENFILE, ENOBUFS) fails again at once: retrying immediately spins a
// core. Pause, doubling while it keeps failing, so the descriptors can come back.
constexpr auto kAcceptRetryFirst = std::chrono::milliseconds(100);
constexpr auto kAcceptRetryMax = std::chrono::seconds(2);
constexpr auto kAcceptWarningEvery = std::chrono::seconds(10);
}  // namespace

struct Listener::Acceptor {
    explicit Acceptor(asio::io_context& io) : acceptor(io), retry_timer(io) {}
    tcp::acceptor acceptor;
    asio::steady_timer retry_timer;
    std::chrono::milliseconds retry_delay{0};  // 0: the last accept succeeded
    std::chrono::steady_clock::time_point last_warning{};
};

struct Listener::Pending {
    explicit Pending(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    tcp::socket socket;
    asio::steady_timer timer;
    std::array<char, wire::kHandshakeSize> buf{};
};

Listener::Listener(asio::io_context& io, Route route, Admit admit, const EngineClock& clock)
    : io_(io), clock_(clock), route_(std::move(route)), admit_(std::move(admit)) {}

Listener::~Listener() {
    *alive_ = false;
    try {
        close();
    } catch (const std::exception& e) {  // a destructor must not throw; the sockets go anyway
        spdlog::warn("closing the peer listener: {}", e.what());
    }
}

std::uint16_t Listener::listen(const std::string& address, std::uint16_t port) {
    bool listening = !acceptors_.empty();
    if (listening && address == address_ && (port == requested_ || port == bound_)) {
        requested_ = port;
        return bound_;
    }
    std::uint16_t bound = 0;
    Acceptors fresh;
    try {
        fresh = bind(address, port, bound);
    } catch (const std::runtime_error&) {
        // The same port on another address collides with our own sockets: free it first,
        // and take the old address back if the new one cannot be had.
        if (!listening || port != bound_) throw;
        close();
        try {
            fresh = bind(address, port, bound);
        } catch (const std::runtime_error&) {
            std::uint16_t again = 0;
            acceptors_ = bind(address_, bound_, again);
            for (auto& a : acceptors_) accept(a);
            throw;
        }
    }
    close();
    acceptors_ = std::move(fresh);
    for (auto& a : acceptors_) accept(a);
    address_ = address;
    requested_ = port;
    bound_ = bound;
    return bound_;
}

// Opens, binds and listens, but does not accept yet; throws before touching acceptors_.
Listener::Acceptors Listener::bind(const std::string& address, std::uint16_t port,
                                   std::uint16_t& bound) {
    std::vector<tcp::endpoint> endpoints;
    error_code ec;
    if (bind_.address) {
        endpoints.emplace_back(*bind_.address, port);
    } else if (address.empty() || address == "0.0.0.0" || address == "::" || address == "*") {
        endpoints.emplace_back(tcp::v4(), port);
        endpoints.emplace_back(tcp::v6(), port);
    } else {
        auto addr = asio::ip::make_address(address, ec);
        if (ec) throw std::runtime_error("invalid listen address " + address);
        endpoints.emplace_back(addr, port);
    }
    Acceptors out;
    bound = port;
    for (auto ep : endpoints) {
        if (bound) ep.port(bound);  // IPv6 uses the same port IPv4 got
        auto a = std::make_shared<Acceptor>(io_);
        a->acceptor.open(ep.protocol(), ec);
        if (ec) {
            if (ep.address().is_v6() && endpoints.size() > 1) continue;  // no IPv6 here: fine
            throw std::runtime_error("cannot open listen socket: " + ec.message());
        }
        if (!bind_.device.empty() && (ec = apply_bind_target(a->acceptor, bind_)))
            throw std::runtime_error("cannot listen on " + bind_.device + ": " + ec.message());
        a->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (ep.address().is_v6()) a->acceptor.set_option(asio::ip::v6_only(true), ec);
        a->acceptor.bind(ep, ec);
        if (!ec) a->acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            if (ep.address().is_v6() && endpoints.size() > 1) {
                spdlog::warn("not listening on IPv6 port {}: {}", ep.port(), ec.message());
                continue;
            }
            throw std::runtime_error("cannot listen on port " + std::to_string(ep.port()) + ": " +
                                     ec.message());
        }
        bound = a->acceptor.local_endpoint().port();
        out.push_back(a);
    }
    return out;
}

void Listener::close() {
    for (auto& a : acceptors_) {
        error_code ignored;
        a->acceptor.close(ignored);
        a->retry_timer.cancel();
    }
    acceptors_.clear();
}

void Listener::accept(const std::shared_ptr<Acceptor>& acceptor) {
    acceptor->acceptor.async_accept(
        [this, acceptor, alive = std::weak_ptr<bool>(alive_)](const error_code& ec, tcp::socket s) {
            if (!alive.lock() || !acceptor->acceptor.is_open()) return;
            if (ec == asio::error::operation_aborted) return;
            if (ec) return retry_accept_later(acceptor, ec);
            acceptor->retry_delay = std::chrono::milliseconds(0);
            if (admit_()) read_handshake(std::move(s));
            accept(acceptor);
        });
}

void Listener::retry_accept_later(const std::shared_ptr<Acceptor>& acceptor, const error_code& ec) {
    auto& delay = acceptor->retry_delay;
    delay = delay.count() ? std::min<std::chrono::milliseconds>(delay * 2, kAcceptRetryMax)
                          : kAcceptRetryFirst;
    auto now = clock_.now();
    if (now - acceptor->last_warning > kAcceptWarningEvery) {  // a flood must not flood the log
        acceptor->last_warning = now;
        spdlog::warn("peer port: accept failed: {}; pausing new connections briefly", ec.message());
    }
    // Out of descriptors: the connection that has waited longest for its handshake gives its
    // descriptor back (a real peer sends the handshake at once).
    drop_oldest_pending();
    acceptor->retry_timer.expires_after(delay);
    acceptor->retry_timer.async_wait(
        [this, acceptor, alive = std::weak_ptr<bool>(alive_)](const error_code& ec) {
            if (ec || !alive.lock() || !acceptor->acceptor.is_open()) return;
            accept(acceptor);
        });
}

void Listener::drop_oldest_pending() {
    if (pending_.empty()) return;
    auto oldest = pending_.begin();
    error_code ignored;
    oldest->second->timer.cancel();
    oldest->second->socket.close(ignored);
    pending_.erase(oldest);
}

void Listener::read_handshake(tcp::socket socket) {
    if (pending_.size() >= kMaxPendingHandshakes) drop_oldest_pending();
    auto id = next_pending_++;
    auto p = std::make_shared<Pending>(std::move(socket));
    pending_.emplace(id, p);
    p->timer.expires_after(kHandshakeTimeout);
    p->timer.async_wait([p](const error_code& ec) {
        if (ec) return;
        error_code ignored;
        p->socket.close(ignored);
    });
    asio::async_read(
        p->socket, asio::buffer(p->buf),
        [this, p, id, alive = std::weak_ptr<bool>(alive_)](const error_code& ec, std::size_t) {
            p->timer.cancel();
            if (!alive.lock()) return;
            pending_.erase(id);
            if (ec) return;
            auto hs = wire::decode_handshake({p->buf.data(), p->buf.size()});
            if (!hs) return;  // not BitTorrent: just drop it
            error_code gone;
            p->socket.remote_endpoint(gone);
            if (gone) return;  // the peer left already; its stream would name no remote
            route_(std::make_unique<TcpPeerStream>(std::move(p->socket)), *hs);
        });
}

}  // namespace btd
