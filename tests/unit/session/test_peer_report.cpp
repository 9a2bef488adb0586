// What torrent.get reports about a peer, from a real Session and a scripted peer on 127.0.0.1:
// an incoming peer shows as incoming, its client name comes from its BEP 10 `v`, the flags
// follow choking and interest both ways, and its disconnect is logged like an outgoing one's.
#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "core/peer/extension.hpp"
#include "core/peer/wire.hpp"
#include "core/session/session.hpp"

using namespace btd;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr int kPieceSize = 64 * 1024;
constexpr int kPieces = 8;

Metainfo make_torrent() {
    Metainfo m;
    m.name = "peer-report-test";
    m.piece_length = kPieceSize;
    m.total_size = std::int64_t(kPieceSize) * kPieces;
    m.files = {{"peer-report-test", m.total_size, 0, false}};
    for (int p = 0; p < kPieces; ++p) m.piece_hashes.push_back(sha1(std::string(kPieceSize, 'x')));
    for (std::size_t i = 0; i < m.info_hash.size(); ++i) m.info_hash[i] = std::uint8_t(i * 5 + 3);
    return m;
}

// aria2's peer id is not Azureus style ("A2-1-36-0-"): only its `v` names it.
PeerId aria2_peer_id() {
    PeerId id{};
    std::string_view text = "A2-1-36-0-0123456789";
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(text[i]);
    return id;
}

// Connects to the session, says it has everything and wants data, then only reads (and never
// answers a request) until the session closes the connection or `stop` is set.
void incoming_peer(std::uint16_t port, Sha1Hash info_hash, std::atomic<bool>& stop) {
    try {
        asio::io_context io;
        tcp::socket s(io);
        s.connect({asio::ip::make_address("127.0.0.1"), port});
        auto hs = wire::make_handshake(info_hash, aria2_peer_id());  // Fast and BEP 10 bits
        asio::write(s, asio::buffer(wire::encode_handshake(hs)));
        std::string theirs(wire::kHandshakeSize, '\0');
        asio::read(s, asio::buffer(theirs));
        wire::ExtensionHandshake ext;
        ext.client = "aria2/1.36.0";
        std::string out;
        wire::append_extended(out, 0, wire::encode_extension_handshake(ext));
        wire::append_simple(out, wire::MsgType::have_all);
        wire::append_simple(out, wire::MsgType::unchoke);
        wire::append_simple(out, wire::MsgType::interested);
        asio::write(s, asio::buffer(out));
        std::array<char, 4096> buf;
        s.non_blocking(true);
        while (!stop) {
            boost::system::error_code ec;
            s.read_some(asio::buffer(buf), ec);
            if (ec == asio::error::would_block)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            else if (ec)
                return;
        }
    } catch (const std::exception&) {  // the session went away: done
    }
}

}  // namespace

// Captures the log (debug and up) for the test's lifetime.
struct LogCapture {
    LogCapture() : previous(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
        auto logger = std::make_shared<spdlog::logger>("capture", sink);
        logger->set_level(spdlog::level::debug);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(previous); }
    bool contains(const std::string& s) {
        spdlog::default_logger()->flush();
        return text.str().find(s) != std::string::npos;
    }
    std::shared_ptr<spdlog::logger> previous;
    std::ostringstream text;
};

TEST_CASE("an incoming peer is reported as incoming, named by its `v`, with its flags") {
    LogCapture log;
    auto dir = std::filesystem::temp_directory_path() / "btd-test-peer-report";
    std::filesystem::remove_all(dir);
    auto meta = make_torrent();
    std::atomic<bool> stop{false};
    std::thread peer;
    {
        asio::io_context io;
        SessionSettings settings;
        settings.listen_port = 0;
        settings.listen_address = "127.0.0.1";
        settings.default_download_dir = dir;
        auto session = std::make_unique<Session>(io, settings);
        auto id = session->add_torrent(meta, {}).id;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        auto run_until = [&](auto done) {
            while (!done() && std::chrono::steady_clock::now() < deadline)
                io.run_one_for(std::chrono::milliseconds(20));
            return done();
        };
        REQUIRE(run_until([&] { return session->list()[0].state == TorrentState::downloading; }));
        peer = std::thread(incoming_peer, session->settings().listen_port, id, std::ref(stop));
        // Interested in it (it has everything), it unchoked us (requests go out), we unchoked
        // it (it is interested and a slot is free): D, U and i, not c.
        auto reported = [&] {
            auto peers = session->details(id).peers;
            return peers.size() == 1 && peers[0].client == "aria2/1.36.0" &&
                   peers[0].flags.find('U') != std::string::npos &&
                   peers[0].flags.find('D') != std::string::npos;
        };
        bool ok = run_until(reported);
        auto peers = session->details(id).peers;
        REQUIRE(peers.size() == 1);
        INFO("client ", peers[0].client, ", flags ", peers[0].flags);
        CHECK(ok);
        CHECK(peers[0].incoming);
        CHECK(peers[0].client == "aria2/1.36.0");
        CHECK(peers[0].flags.find('i') != std::string::npos);
        CHECK(peers[0].flags.find('c') == std::string::npos);

        // It hangs up: logged with its address and the reason, as an outgoing peer's end is.
        auto closed_line = "incoming " + peers[0].address + " closed: peer closed the connection";
        stop = true;
        peer.join();
        CHECK(run_until([&] { return log.contains(closed_line); }));
        CHECK(session->details(id).peers.empty());
        session.reset();
    }
    std::filesystem::remove_all(dir);
}
