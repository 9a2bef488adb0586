// PeerConnection against a scripted peer on 127.0.0.1: handshake checks, framing (coalesced,
// split and large streams), the max_frame limit, malformed messages, connect failures, the
// handshake timeout and byte-exact sending.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/peer/peer_connection.hpp"
#include "core/peer/wire.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// Runs io until pred() holds or the time is up; returns pred().
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 2s) {
    auto deadline = Clock::now() + limit;
    while (!pred() && Clock::now() < deadline) {
        io.restart();
        io.run_for(5ms);
    }
    return pred();
}

void run_for(asio::io_context& io, std::chrono::milliseconds time) {
    io.restart();
    io.run_for(time);
}

// The remote side: accepts one connection, records every byte it receives and writes what the
// test tells it to, in order.
class FakePeer {
  public:
    explicit FakePeer(asio::io_context& io)
        : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), socket_(io) {
        acceptor_.async_accept(socket_, [this](const boost::system::error_code& ec) {
            if (ec) return;
            accepted = true;
            socket_.set_option(tcp::no_delay(true));
            read();
        });
    }

    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

    void send(std::string bytes) {
        out_.push_back(std::move(bytes));
        if (out_.size() == 1) write_front();
    }
    bool all_sent() const { return out_.empty(); }
    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    bool accepted = false;
    bool eof = false;  // the other side closed the connection
    std::string received;

  private:
    void read() {
        socket_.async_read_some(asio::buffer(buf_),
                                [this](const boost::system::error_code& ec, std::size_t n) {
                                    if (ec) {
                                        eof = true;
                                        return;
                                    }
                                    received.append(buf_.data(), n);
                                    read();
                                });
    }
    void write_front() {
        asio::async_write(socket_, asio::buffer(out_.front()),
                          [this](const boost::system::error_code& ec, std::size_t) {
                              if (ec) return out_.clear();
                              out_.pop_front();
                              if (!out_.empty()) write_front();
                          });
    }

    tcp::acceptor acceptor_;
    tcp::socket socket_;
    std::array<char, 16 * 1024> buf_{};
    std::deque<std::string> out_;
};

// A message copied out of the handler call (its payload view dies with the call).
struct Received {
    wire::MsgType type;
    std::uint32_t piece, offset, length;
    std::uint16_t port;
    std::uint8_t ext_id;
    std::string payload;
};

struct Recorder : PeerConnection::Handler {
    void on_peer_connected(PeerConnection& peer) override {
        ++connected;
        CHECK(messages.empty());
        if (on_connected) on_connected(peer);
    }
    void on_peer_message(PeerConnection& peer, const wire::Message& m) override {
        CHECK(connected == 1);
        messages.push_back(
            {m.type, m.piece, m.offset, m.length, m.port, m.ext_id, std::string(m.payload)});
        if (on_message) on_message(peer, messages.back());
    }
    void on_peer_closed(PeerConnection&, const std::string& why) override {
        ++closed;
        reason = why;
        closed_at = Clock::now();
    }

    int connected = 0;
    int closed = 0;
    std::string reason;
    Clock::time_point closed_at;
    std::vector<Received> messages;
    std::function<void(PeerConnection&)> on_connected;
    std::function<void(PeerConnection&, const Received&)> on_message;
};

Sha1Hash filled_hash(std::uint8_t v) {
    Sha1Hash h;
    h.fill(v);
    return h;
}

PeerId peer_id_from(std::string_view s) {
    PeerId id{};
    for (std::size_t i = 0; i < id.size() && i < s.size(); ++i)
        id[i] = static_cast<std::uint8_t>(s[i]);
    return id;
}

// One connection from us to a FakePeer, torn down without callbacks at the end of a test.
struct Harness {
    asio::io_context io;  // first: outlives everything that refers to it
    FakePeer peer{io};
    Recorder handler;
    Sha1Hash info_hash = filled_hash(0xab);
    PeerId our_id = peer_id_from("-BD0010-ourselves123");
    PeerId their_id = peer_id_from("-LT2080-theirs456789");
    std::shared_ptr<PeerConnection> conn;

    ~Harness() {
        if (conn) conn->detach();
        io.restart();
        io.poll();
    }

    void start(PeerConnection::Options options = {}) { start_to(peer.endpoint(), options); }
    void start_to(tcp::endpoint remote, PeerConnection::Options options = {}) {
        conn = std::make_shared<PeerConnection>(io, remote, handler,
                                                wire::make_handshake(info_hash, our_id), options);
        conn->start_outgoing();
    }
    std::string our_handshake() const {
        return wire::encode_handshake(wire::make_handshake(info_hash, our_id));
    }
    std::string their_handshake() const {
        return wire::encode_handshake(wire::make_handshake(info_hash, their_id));
    }
    // Connects, waits for our handshake and answers it; true once on_peer_connected ran.
    bool connect(PeerConnection::Options options = {}) {
        start(options);
        if (!run_until(io, [&] { return peer.received.size() >= wire::kHandshakeSize; }))
            return false;
        peer.send(their_handshake());
        return run_until(io, [&] { return handler.connected == 1; });
    }
    bool wait_closed(std::chrono::milliseconds limit = 2s) {
        return run_until(
            io, [&] { return handler.closed > 0; }, limit);
    }
};

std::string have(std::uint32_t piece) {
    std::string f;
    wire::append_have(f, piece);
    return f;
}

}  // namespace

TEST_CASE("good handshake, then messages arrive in order however TCP splits them") {
    Harness h;
    REQUIRE(h.connect());
    CHECK(h.conn->connected());
    CHECK_FALSE(h.conn->closed());
    CHECK(h.conn->remote_handshake().peer_id == h.their_id);
    CHECK(h.conn->remote_handshake().info_hash == h.info_hash);
    CHECK(h.conn->fast_extension());
    CHECK(h.handler.closed == 0);

    SUBCASE("two frames in one write") {
        std::string frames = have(7);
        wire::append_simple(frames, wire::MsgType::unchoke);
        h.peer.send(frames);
        REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() == 2; }));
        CHECK(h.handler.messages[0].type == wire::MsgType::have);
        CHECK(h.handler.messages[0].piece == 7u);
        CHECK(h.handler.messages[1].type == wire::MsgType::unchoke);
    }

    SUBCASE("one frame split across several writes") {
        std::string frame;
        const std::string block(300, 'z');
        wire::append_piece_header(frame, 3, 16384, static_cast<std::uint32_t>(block.size()));
        frame += block;
        // Split inside the length prefix, inside the header and inside the block.
        const std::size_t cuts[] = {0, 2, 7, 100, frame.size()};
        for (std::size_t i = 0; i + 1 < std::size(cuts); ++i) {
            h.peer.send(frame.substr(cuts[i], cuts[i + 1] - cuts[i]));
            if (i + 2 < std::size(cuts)) {
                run_for(h.io, 30ms);
                CHECK(h.handler.messages.empty());
            }
        }
        REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() == 1; }));
        const auto& m = h.handler.messages[0];
        CHECK(m.type == wire::MsgType::piece);
        CHECK(m.piece == 3u);
        CHECK(m.offset == 16384u);
        CHECK(m.payload == block);
    }

    SUBCASE("every message type, keep-alives included, in order") {
        std::string frames;
        wire::append_keep_alive(frames);
        wire::append_bitfield(frames, "\xf0\x0f");
        wire::append_simple(frames, wire::MsgType::choke);
        wire::append_request(frames, wire::MsgType::request, 1, 2, 3);
        wire::append_port(frames, 6881);
        wire::append_extended(frames, 1, "d1:ai1ee");
        wire::append_piece_index(frames, wire::MsgType::allowed_fast, 9);
        wire::append_keep_alive(frames);
        h.peer.send(frames);
        REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() == 8; }));
        const auto& got = h.handler.messages;
        CHECK(got[0].type == wire::MsgType::keep_alive);
        CHECK(got[1].type == wire::MsgType::bitfield);
        CHECK(got[1].payload == "\xf0\x0f");
        CHECK(got[2].type == wire::MsgType::choke);
        CHECK(got[3].type == wire::MsgType::request);
        CHECK(got[3].length == 3u);
        CHECK(got[4].port == 6881);
        CHECK(got[5].ext_id == 1);
        CHECK(got[5].payload == "d1:ai1ee");
        CHECK(got[6].type == wire::MsgType::allowed_fast);
        CHECK(got[7].type == wire::MsgType::keep_alive);
    }
    CHECK(h.handler.closed == 0);
}

TEST_CASE("handshake and first messages in one write; handshake itself split") {
    Harness h;
    h.start();
    REQUIRE(run_until(h.io, [&] { return h.peer.received.size() >= wire::kHandshakeSize; }));
    std::string bytes = h.their_handshake();
    wire::append_simple(bytes, wire::MsgType::have_all);
    bytes += have(1);
    h.peer.send(bytes.substr(0, 30));
    run_for(h.io, 30ms);
    CHECK(h.handler.connected == 0);
    h.peer.send(bytes.substr(30));
    REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() == 2; }));
    CHECK(h.handler.connected == 1);
    CHECK(h.handler.messages[0].type == wire::MsgType::have_all);
    CHECK(h.handler.messages[1].piece == 1u);
}

TEST_CASE("a long stream of frames survives buffer compaction") {
    // A small max_frame keeps the read buffer small, so the stream wraps it many times.
    Harness h;
    PeerConnection::Options options;
    options.max_frame = 200;
    REQUIRE(h.connect(options));
    const int count = 4000;
    std::string stream;
    for (int i = 0; i < count; ++i) {
        std::string block(static_cast<std::size_t>(1 + i % 190), static_cast<char>('a' + i % 26));
        wire::append_piece_header(stream, static_cast<std::uint32_t>(i), 0,
                                  static_cast<std::uint32_t>(block.size()));
        stream += block;
    }
    h.peer.send(stream);
    REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() == count; }));
    int wrong = 0;
    for (int i = 0; i < count; ++i) {
        const auto& m = h.handler.messages[static_cast<std::size_t>(i)];
        if (m.piece != static_cast<std::uint32_t>(i) ||
            m.payload !=
                std::string(static_cast<std::size_t>(1 + i % 190), static_cast<char>('a' + i % 26)))
            ++wrong;
    }
    CHECK(wrong == 0);
    CHECK(h.handler.closed == 0);
}

TEST_CASE("handshake for a different info-hash closes without connecting") {
    Harness h;
    h.start();
    REQUIRE(run_until(h.io, [&] { return h.peer.received.size() >= wire::kHandshakeSize; }));
    h.peer.send(wire::encode_handshake(wire::make_handshake(filled_hash(0xcd), h.their_id)));
    REQUIRE(h.wait_closed());
    CHECK(h.handler.connected == 0);
    CHECK(h.handler.closed == 1);
    CHECK_FALSE(h.handler.reason.empty());
    CHECK(h.handler.reason.find("another torrent") != std::string::npos);
    CHECK(h.conn->closed());
    CHECK_FALSE(h.conn->connected());
}

TEST_CASE("handshake echoing our own peer id closes: connected to ourselves") {
    Harness h;
    h.start();
    REQUIRE(run_until(h.io, [&] { return h.peer.received.size() >= wire::kHandshakeSize; }));
    h.peer.send(h.our_handshake());
    REQUIRE(h.wait_closed());
    CHECK(h.handler.connected == 0);
    CHECK(h.handler.reason == "connected to ourselves");
}

TEST_CASE("not a BitTorrent handshake closes") {
    Harness h;
    h.start();
    REQUIRE(run_until(h.io, [&] { return h.peer.received.size() >= wire::kHandshakeSize; }));
    h.peer.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + std::string(40, 'x'));
    REQUIRE(h.wait_closed());
    CHECK(h.handler.connected == 0);
    CHECK(h.handler.reason.find("handshake") != std::string::npos);
}

TEST_CASE("a length prefix above max_frame closes before the payload is sent") {
    Harness h;
    REQUIRE(h.connect());
    const auto sent_at = Clock::now();
    h.peer.send(std::string("\x7f\xff\xff\xff", 4));  // only the prefix; no payload ever follows
    REQUIRE(h.wait_closed(1s));
    CHECK(h.handler.closed_at - sent_at < 500ms);
    CHECK(h.handler.messages.empty());
    CHECK(h.handler.reason.find("exceeds") != std::string::npos);
    // Our side really closed the socket.
    CHECK(run_until(
        h.io, [&] { return h.peer.eof; }, 1s));
}

TEST_CASE("max_frame is inclusive: a frame of exactly max_frame bytes is accepted") {
    Harness h;
    PeerConnection::Options options;
    options.max_frame = 100;
    REQUIRE(h.connect(options));
    std::string frames;
    wire::append_bitfield(frames, std::string(99, '\xff'));  // body: 1 + 99 = 100 bytes
    h.peer.send(frames);
    REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() == 1; }));
    CHECK(h.handler.messages[0].payload.size() == 99);
    CHECK(h.handler.closed == 0);

    frames.clear();
    wire::append_bitfield(frames, std::string(100, '\xff'));  // 101 bytes: one too many
    h.peer.send(frames);
    REQUIRE(h.wait_closed());
    CHECK(h.handler.messages.size() == 1);
}

TEST_CASE("a malformed message closes and later frames are not delivered") {
    Harness h;
    REQUIRE(h.connect());
    std::string frames = have(1);
    SUBCASE("have with a short payload") {
        frames += std::string("\0\0\0\x03\x04\0\0", 7);
    }
    SUBCASE("unknown message id 99") {
        frames += std::string("\0\0\0\x01\x63", 5);
    }
    SUBCASE("piece shorter than its header") {
        frames += std::string("\0\0\0\x05\x07\0\0\0\x01", 9);
    }
    frames += have(2);
    h.peer.send(frames);
    REQUIRE(h.wait_closed());
    CHECK(h.handler.closed == 1);
    REQUIRE(h.handler.messages.size() == 1);
    CHECK(h.handler.messages[0].piece == 1u);
    CHECK_FALSE(h.handler.reason.empty());
    CHECK(run_until(
        h.io, [&] { return h.peer.eof; }, 1s));
}

TEST_CASE("the peer hanging up is reported once") {
    Harness h;
    REQUIRE(h.connect());
    h.peer.close();
    REQUIRE(h.wait_closed());
    CHECK(h.handler.reason == "peer closed the connection");
    h.conn->close("again");  // a second close is a no-op
    run_for(h.io, 20ms);
    CHECK(h.handler.closed == 1);
}

TEST_CASE("connecting to a closed port reports connect failed") {
    tcp::endpoint closed_port;
    {
        asio::io_context tmp;
        tcp::acceptor probe(tmp, {asio::ip::make_address("127.0.0.1"), 0});
        closed_port = probe.local_endpoint();
    }  // closed again: nothing listens there now
    Harness h;
    h.start_to(closed_port);
    REQUIRE(h.wait_closed());
    CHECK(h.handler.connected == 0);
    CHECK(h.handler.reason.rfind("connect failed", 0) == 0);
}

namespace {

// Short timeouts; the connection must be dropped once the handshake is overdue.
void check_handshake_timeout(bool send_partial_handshake) {
    Harness h;
    PeerConnection::Options options;
    options.connect_timeout = 1s;
    options.handshake_timeout = 1s;
    const auto started = Clock::now();
    h.start(options);
    REQUIRE(run_until(h.io, [&] { return h.peer.accepted; }));
    if (send_partial_handshake) h.peer.send(h.their_handshake().substr(0, 40));
    REQUIRE(h.wait_closed(2800ms));
    CHECK(h.handler.connected == 0);
    CHECK(h.handler.reason == "handshake timed out");
    CHECK(h.handler.closed_at - started >= options.handshake_timeout);
    CHECK(run_until(
        h.io, [&] { return h.peer.eof; }, 1s));
}

}  // namespace

TEST_CASE("a peer that accepts but never sends a handshake is dropped after the timeout") {
    check_handshake_timeout(false);
}

TEST_CASE("a peer that stalls halfway through its handshake is dropped after the timeout") {
    check_handshake_timeout(true);
}

TEST_CASE("send(): our handshake first, then the frames byte-exact and in order") {
    Harness h;
    std::string expected_frames;
    wire::append_bitfield(expected_frames, "\x80");
    wire::append_simple(expected_frames, wire::MsgType::interested);
    const std::string opening = expected_frames;
    h.handler.on_connected = [&](PeerConnection& peer) { peer.send(opening); };
    REQUIRE(h.connect());

    std::string later;
    wire::append_request(later, wire::MsgType::request, 4, 0, wire::kMaxBlockLength);
    const std::string block(200000, '\x5a');  // larger than one socket write
    wire::append_piece_header(later, 5, 0, static_cast<std::uint32_t>(block.size()));
    later += block;
    wire::append_extended(later, 2, "d1:xi1ee");
    // Several sends while a write is in flight are queued, not interleaved.
    h.conn->send(later.substr(0, 17));
    h.conn->send(later.substr(17, 1000));
    h.conn->send(later.substr(1017));
    expected_frames += later;

    const std::string expected = h.our_handshake() + expected_frames;
    REQUIRE(run_until(h.io, [&] { return h.peer.received.size() >= expected.size(); }));
    CHECK(h.peer.received.size() == expected.size());
    CHECK(h.peer.received.substr(0, wire::kHandshakeSize) == h.our_handshake());
    CHECK(h.peer.received == expected);
    CHECK(run_until(h.io, [&] { return h.conn->send_queue_bytes() == 0; }));
    CHECK(h.handler.closed == 0);
}

TEST_CASE("send() before the TCP connection is up still puts the handshake first") {
    Harness h;
    h.start();
    std::string frame = have(3);
    h.conn->send(frame);  // the owner queues something right away
    const std::string expected = h.our_handshake() + frame;
    REQUIRE(run_until(h.io, [&] { return h.peer.received.size() >= expected.size(); }));
    const bool frame_went_first = h.peer.received.compare(0, frame.size(), frame) == 0;
    CHECK_MESSAGE(!frame_went_first, "the queued frame was sent before our handshake");
    CHECK(h.peer.received == expected);
}

TEST_CASE("closing from inside a handler stops delivery; detach never calls back") {
    SUBCASE("close in on_peer_message") {
        Harness h;
        h.handler.on_message = [](PeerConnection& peer, const Received&) { peer.close("enough"); };
        REQUIRE(h.connect());
        h.peer.send(have(1) + have(2) + have(3));
        REQUIRE(h.wait_closed());
        run_for(h.io, 30ms);
        CHECK(h.handler.messages.size() == 1);
        CHECK(h.handler.closed == 1);
        CHECK(h.handler.reason == "enough");
    }
    SUBCASE("close in on_peer_connected") {
        Harness h;
        h.handler.on_connected = [](PeerConnection& peer) { peer.close("not wanted"); };
        h.start();
        REQUIRE(run_until(h.io, [&] { return h.peer.received.size() >= wire::kHandshakeSize; }));
        h.peer.send(h.their_handshake() + have(1));
        REQUIRE(h.wait_closed());
        run_for(h.io, 30ms);
        CHECK(h.handler.messages.empty());
        CHECK(h.handler.reason == "not wanted");
    }
    SUBCASE("detach") {
        Harness h;
        REQUIRE(h.connect());
        h.conn->detach();
        CHECK(h.conn->closed());
        h.peer.send(have(1));
        CHECK(run_until(
            h.io, [&] { return h.peer.eof; }, 1s));
        CHECK(h.handler.closed == 0);
        CHECK(h.handler.messages.empty());
    }
}

TEST_CASE("raising max_frame while connected lets the larger frames through") {
    // E.g. a limit raised once the torrent's real bitfield size is known.
    Harness h;
    PeerConnection::Options options;
    options.max_frame = 100;
    h.handler.on_message = [](PeerConnection& peer, const Received& m) {
        if (m.type == wire::MsgType::have) peer.set_max_frame(200000);
    };
    REQUIRE(h.connect(options));
    h.peer.send(have(1));
    REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() == 1; }));
    std::string frame;
    const std::string bits(150000, '\x55');
    wire::append_bitfield(frame, bits);
    h.peer.send(frame);
    CHECK(run_until(h.io, [&] { return h.handler.messages.size() == 2; }));
    CHECK(h.handler.closed == 0);
    if (h.handler.messages.size() == 2) CHECK(h.handler.messages[1].payload == bits);
}

TEST_CASE("incoming connection: our handshake goes out first, buffered frames are delivered") {
    // The test plays the listener: it accepts, reads the peer's handshake, then hands over.
    asio::io_context io;
    Recorder handler;
    const auto info_hash = filled_hash(0x42);
    const auto our_id = peer_id_from("-BD0010-ourselves123");
    const auto their_id = peer_id_from("-TR4050-theirs456789");

    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket accepted = acceptor.accept();
    // The client's handshake and its first message arrive together.
    std::string hello = wire::encode_handshake(wire::make_handshake(info_hash, their_id)) + have(9);
    asio::write(client, asio::buffer(hello));
    std::string theirs_raw(wire::kHandshakeSize, '\0');
    asio::read(accepted, asio::buffer(theirs_raw));
    auto theirs = wire::decode_handshake(theirs_raw);
    REQUIRE(theirs);

    std::string opening;
    wire::append_simple(opening, wire::MsgType::have_none);
    handler.on_connected = [&](PeerConnection& peer) { peer.send(opening); };
    auto conn = std::make_shared<PeerConnection>(std::move(accepted), handler,
                                                 wire::make_handshake(info_hash, our_id), *theirs,
                                                 PeerConnection::Options{});
    CHECK(conn->incoming());
    conn->start_incoming();
    CHECK(handler.connected == 1);
    CHECK(conn->connected());
    CHECK(conn->remote_handshake().peer_id == their_id);
    CHECK(conn->remote().address() == asio::ip::make_address("127.0.0.1"));

    std::string client_got;
    std::array<char, 4096> buf{};
    std::function<void()> read_client = [&] {
        client.async_read_some(asio::buffer(buf),
                               [&](const boost::system::error_code& ec, std::size_t n) {
                                   if (ec) return;
                                   client_got.append(buf.data(), n);
                                   read_client();
                               });
    };
    read_client();
    const std::string expected =
        wire::encode_handshake(wire::make_handshake(info_hash, our_id)) + opening;
    CHECK(run_until(
        io, [&] { return handler.messages.size() == 1 && client_got.size() >= expected.size(); }));
    REQUIRE(handler.messages.size() == 1);
    CHECK(handler.messages[0].piece == 9u);
    CHECK(client_got == expected);
    CHECK(handler.closed == 0);

    conn->detach();
    client.close();
    io.restart();
    io.poll();
}

TEST_CASE("set_max_frame while a read is in flight keeps the incoming bytes") {
    // Called from outside any handler (e.g. the torrent learnt its size from another peer):
    // the connection is idle with a read pending on its buffer.
    Harness h;
    PeerConnection::Options options;
    options.max_frame = 100;
    REQUIRE(h.connect(options));
    h.peer.send(have(1));
    REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() == 1; }));
    run_for(h.io, 20ms);  // everything consumed; the next read is waiting for bytes
    h.conn->set_max_frame(4 << 20);
    h.peer.send(have(5));
    REQUIRE(run_until(h.io, [&] { return h.handler.messages.size() >= 2; }));
    CHECK(h.handler.messages[1].type == wire::MsgType::have);
    CHECK(h.handler.messages[1].piece == 5u);
    CHECK(h.handler.closed == 0);
}
