// PeerConnection over the in-memory PeerStream pair (tests/support/memory_peer_stream.hpp), the
// seam that lets session tests run a whole Torrent without sockets: two connections, one
// outgoing and one accepted, shake hands and exchange frames; a hang-up reaches the other side;
// a refused connect and a silent peer end the way they do over TCP.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../../support/memory_peer_stream.hpp"
#include "core/peer/peer_connection.hpp"
#include "core/peer/wire.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using test::MemoryPeerStream;

namespace {

template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 5s) {
    auto deadline = Clock::now() + limit;
    while (!pred() && Clock::now() < deadline) {
        io.restart();
        io.run_for(5ms);
    }
    return pred();
}

struct Recorder : PeerConnection::Handler {
    void on_peer_connected(PeerConnection&) override { ++connected; }
    void on_peer_message(PeerConnection&, const wire::Message& m) override {
        messages.push_back(m.type);
        if (m.type == wire::MsgType::have) haves.push_back(m.piece);
    }
    void on_peer_closed(PeerConnection&, const std::string& why) override {
        ++closed;
        reason = why;
    }
    int connected = 0;
    int closed = 0;
    std::string reason;
    std::vector<wire::MsgType> messages;
    std::vector<std::uint32_t> haves;
};

PeerId id_of(char c) {
    PeerId id;
    id.fill(static_cast<std::uint8_t>(c));
    return id;
}

const tcp::endpoint kRemote(asio::ip::make_address("127.0.0.9"), 6881);

// Reads exactly `n` bytes from a stream, as the listener reads a handshake.
std::string read_exactly(asio::io_context& io, PeerStream& stream, std::size_t n) {
    std::string got;
    std::array<char, 256> buf{};
    bool failed = false;
    while (got.size() < n && !failed) {
        bool done = false;
        stream.async_read_some(asio::buffer(buf.data(), n - got.size()),
                               [&](const boost::system::error_code& ec, std::size_t k) {
                                   failed = bool(ec);
                                   got.append(buf.data(), k);
                                   done = true;
                               });
        if (!run_until(io, [&] { return done; })) break;
    }
    return got;
}

}  // namespace

TEST_CASE("an outgoing and an accepted connection over a memory pair exchange frames") {
    asio::io_context io;
    Sha1Hash info_hash;
    info_hash.fill(0x42);
    auto [near, far] = MemoryPeerStream::pair(io, kRemote);
    Recorder out_handler, in_handler;
    auto outgoing = std::make_shared<PeerConnection>(std::move(near), out_handler,
                                                     wire::make_handshake(info_hash, id_of('o')),
                                                     PeerConnection::Options{});
    CHECK(outgoing->remote() == kRemote);
    std::string early;
    wire::append_have(early, 7);
    outgoing->send(early);  // queued before the connection is up: the handshake still goes first
    outgoing->start_outgoing();

    auto theirs = wire::decode_handshake(read_exactly(io, *far, wire::kHandshakeSize));
    REQUIRE(theirs);
    CHECK(theirs->peer_id == id_of('o'));
    auto incoming = std::make_shared<PeerConnection>(std::move(far), in_handler,
                                                     wire::make_handshake(info_hash, id_of('i')),
                                                     *theirs, PeerConnection::Options{});
    CHECK(incoming->incoming());
    incoming->start_incoming();
    REQUIRE(run_until(io, [&] { return out_handler.connected == 1 && !in_handler.haves.empty(); }));
    CHECK(in_handler.connected == 1);
    CHECK(in_handler.haves == std::vector<std::uint32_t>{7});
    CHECK(outgoing->remote_handshake().peer_id == id_of('i'));

    std::string reply;
    wire::append_simple(reply, wire::MsgType::unchoke);
    wire::append_have(reply, 3);
    incoming->send(reply);
    REQUIRE(run_until(io, [&] { return out_handler.messages.size() == 2; }));
    CHECK(out_handler.messages[0] == wire::MsgType::unchoke);
    CHECK(out_handler.haves == std::vector<std::uint32_t>{3});

    // A hang-up reaches the other side once, as EOF does over TCP.
    incoming->close("done");
    REQUIRE(run_until(io, [&] { return out_handler.closed == 1; }));
    CHECK(out_handler.reason == "peer closed the connection");
    CHECK(in_handler.closed == 1);
    CHECK(outgoing->closed());
}

TEST_CASE("over a memory pair, a refused connect and a silent peer end as they do over TCP") {
    asio::io_context io;
    Sha1Hash info_hash;
    info_hash.fill(0x42);
    {
        auto [near, far] = MemoryPeerStream::pair(io, kRemote);
        near->refuse_connection();
        Recorder handler;
        auto conn = std::make_shared<PeerConnection>(std::move(near), handler,
                                                     wire::make_handshake(info_hash, id_of('o')),
                                                     PeerConnection::Options{});
        conn->start_outgoing();
        REQUIRE(run_until(io, [&] { return handler.closed == 1; }));
        CHECK(handler.reason.rfind("connect failed: ", 0) == 0);
        CHECK(handler.connected == 0);
    }
    {
        auto [near, far] = MemoryPeerStream::pair(io, kRemote);
        Recorder handler;
        PeerConnection::Options options;
        options.connect_timeout = 0s;
        options.handshake_timeout = 1s;
        auto conn = std::make_shared<PeerConnection>(
            std::move(near), handler, wire::make_handshake(info_hash, id_of('o')), options);
        auto started = Clock::now();
        conn->start_outgoing();
        REQUIRE(run_until(io, [&] { return handler.closed == 1; }));
        CHECK(handler.reason == "handshake timed out");
        CHECK(Clock::now() - started >= 900ms);
        CHECK(far->peer_closed());
    }
}
