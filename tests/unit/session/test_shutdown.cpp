// Shutting a session down while hash and write jobs of a download are still on the disk pool.
// Run under ASan (CI's build-asan stage runs every unit test): before the fix, ~Session freed
// the torrents and their piece buffers while a pool thread still hashed one through a raw
// pointer (heap-use-after-free).
#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "core/peer/wire.hpp"
#include "core/session/session.hpp"

using namespace btd;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr int kPieceSize = 4 << 20;
constexpr int kPieces = 12;

// The torrent's bytes, made once: the seeder serves slices of it faster than one pool thread
// hashes and writes them, so jobs queue up.
const std::string& payload() {
    static const std::string bytes = [] {
        std::string b(std::size_t(kPieceSize) * kPieces, '\0');
        for (std::size_t i = 0; i < b.size(); ++i)
            b[i] = static_cast<char>((i * 2654435761u) >> 13);
        return b;
    }();
    return bytes;
}

Metainfo make_torrent() {
    Metainfo m;
    m.name = "shutdown-test";
    m.piece_length = kPieceSize;
    m.total_size = std::int64_t(kPieceSize) * kPieces;
    m.files = {{"shutdown-test", m.total_size, 0, false}};
    for (int p = 0; p < kPieces; ++p)
        m.piece_hashes.push_back(
            sha1(std::string_view(payload()).substr(std::size_t(p) * kPieceSize, kPieceSize)));
    for (std::size_t i = 0; i < m.info_hash.size(); ++i) m.info_hash[i] = std::uint8_t(i * 7 + 1);
    return m;
}

// A seeder on a plain blocking socket: handshake, everything, unchoke, then every request
// answered at once, until the session goes away.
void seed(std::uint16_t port, Sha1Hash info_hash, std::atomic<bool>& stop) {
    try {
        asio::io_context io;
        tcp::socket s(io);
        s.connect({asio::ip::make_address("127.0.0.1"), port});
        PeerId id{};
        id.fill('S');
        wire::Handshake hs{};
        hs.info_hash = info_hash;
        hs.peer_id = id;
        asio::write(s, asio::buffer(wire::encode_handshake(hs)));
        std::string theirs(68, '\0');
        asio::read(s, asio::buffer(theirs));
        std::string out;
        wire::append_bitfield(out, std::string(kPieces / 8 + 1, '\0'));
        out[5] = char(0xff);
        out[6] = char(0xf0);  // pieces 0..11
        wire::append_simple(out, wire::MsgType::unchoke);
        asio::write(s, asio::buffer(out));
        std::string header(4, '\0'), body;
        while (!stop) {
            asio::read(s, asio::buffer(header));
            body.resize(wire::read_u32(header.data()));
            asio::read(s, asio::buffer(body));
            if (body.empty() || body[0] != char(wire::MsgType::request)) continue;
            auto msg = wire::decode_message(body);
            std::string piece;
            wire::append_piece_header(piece, msg.piece, msg.offset, msg.length);
            piece.append(payload(), std::size_t(msg.piece) * kPieceSize + msg.offset, msg.length);
            asio::write(s, asio::buffer(piece));
        }
    } catch (const std::exception&) {  // the session closed the connection: done
    }
}

// One download, shut down as soon as every block is in. Whether a job is still running at that
// moment depends on timing, so the test does it a few times.
void download_then_shut_down(const Metainfo& meta, const std::filesystem::path& dir) {
    std::filesystem::remove_all(dir);
    std::atomic<bool> stop{false};
    std::thread seeder;
    {
        asio::io_context io;
        SessionSettings settings;
        settings.listen_port = 0;
        settings.listen_address = "127.0.0.1";
        settings.default_download_dir = dir;
        settings.disk_threads = 1;  // one pool thread: the jobs queue up behind each other
        settings.memory_budget = std::int64_t(kPieceSize) * kPieces;
        auto session = std::make_unique<Session>(io, settings);
        auto id = session->add_torrent(meta, {}).id;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        auto run_until = [&](auto done) {
            while (!done() && std::chrono::steady_clock::now() < deadline)
                io.run_one_for(std::chrono::milliseconds(20));
            return done();
        };
        REQUIRE(run_until([&] { return session->list()[0].state == TorrentState::downloading; }));
        seeder = std::thread(seed, session->settings().listen_port, id, std::ref(stop));
        // Every block is in: the last pieces' hash and write jobs were just submitted.
        REQUIRE(run_until([&] { return session->list()[0].downloaded >= meta.total_size; }));
        // Not every piece is verified yet: some jobs are still in flight when the session goes.
        CHECK(session->list()[0].have_bytes < meta.total_size);
        session.reset();
        stop = true;
    }
    seeder.join();
    std::filesystem::remove_all(dir);
}

}  // namespace

TEST_CASE("a session shut down with hash and write jobs in flight frees nothing they use") {
    auto dir =
        std::filesystem::temp_directory_path() / ("btd-shutdown-" + std::to_string(::getpid()));
    auto meta = make_torrent();
    for (int round = 0; round < 4; ++round) download_then_shut_down(meta, dir);
}
