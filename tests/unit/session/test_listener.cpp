// Listener against idle and real clients on 127.0.0.1: connections that never send their
// handshake are bounded (the oldest goes), and a real handshake still gets through.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "core/peer/wire.hpp"
#include "core/session/listener.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 3s) {
    auto deadline = Clock::now() + limit;
    while (!pred() && Clock::now() < deadline) {
        io.restart();
        io.run_for(5ms);
    }
    return pred();
}

// An idle client: connects, sends nothing, notices when the listener closes it.
struct IdleClient {
    explicit IdleClient(asio::io_context& io, std::uint16_t port) : socket(io) {
        socket.connect({asio::ip::make_address("127.0.0.1"), port});
        socket.async_read_some(asio::buffer(buf), [this](const boost::system::error_code& ec,
                                                         std::size_t) { closed = bool(ec); });
    }
    tcp::socket socket;
    std::array<char, 16> buf{};
    bool closed = false;
};

}  // namespace

TEST_CASE("idle connections waiting for a handshake are capped; the oldest are closed") {
    asio::io_context io;
    int routed = 0;
    Listener listener(
        io, [&](std::unique_ptr<PeerStream>, const wire::Handshake&) { ++routed; },
        [] { return true; });
    auto port = listener.listen("127.0.0.1", 0);
    const std::size_t extra = 20;
    std::vector<std::unique_ptr<IdleClient>> clients;
    for (std::size_t i = 0; i < Listener::kMaxPendingHandshakes + extra; ++i) {
        clients.push_back(std::make_unique<IdleClient>(io, port));
        io.restart();
        io.run_for(1ms);  // accept in arrival order
    }
    auto closed = [&] {
        std::size_t n = 0;
        for (auto& c : clients) n += c->closed;
        return n;
    };
    CHECK(run_until(io, [&] { return closed() >= extra; }));
    io.restart();
    io.run_for(100ms);
    CHECK(closed() == extra);                                           // no more than needed
    for (std::size_t i = 0; i < extra; ++i) CHECK(clients[i]->closed);  // the oldest went
    CHECK_FALSE(clients.back()->closed);

    // A real peer still gets through (and pushes out one more idle connection).
    tcp::socket peer(io);
    peer.connect({asio::ip::make_address("127.0.0.1"), port});
    auto hs = wire::encode_handshake(wire::make_handshake(Sha1Hash{}, PeerId{}));
    asio::write(peer, asio::buffer(hs));
    CHECK(run_until(io, [&] { return routed == 1; }));
}
