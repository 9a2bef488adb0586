// session.set listen_port against a real Session on 127.0.0.1: the new port is bound before the
// old one closes, connected peers stay, and a port in use changes nothing.
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fstream>

#include "core/peer/wire.hpp"
#include "tests/unit/rpc_methods/rpc_harness.hpp"

using namespace btd;
using namespace btd::rpc;
using nlohmann::json;
using namespace btd::rpc::testing;
namespace fs = std::filesystem;

namespace {

using boost::asio::ip::tcp;

std::uint16_t unused_port() {
    boost::asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

// Connects to 127.0.0.1:port on the harness' io_context (run here, bounded).
boost::system::error_code connect(Harness& h, tcp::socket& s, std::uint16_t port) {
    std::optional<boost::system::error_code> result;
    s.async_connect({boost::asio::ip::make_address("127.0.0.1"), port},
                    [&](boost::system::error_code ec) { result = ec; });
    for (int i = 0; i < 200 && !result; ++i) h.io.run_for(std::chrono::milliseconds(25));
    REQUIRE(result.has_value());
    return *result;
}

// Sends a BitTorrent handshake for `id`; returns the handshake btd answers with, or nothing
// when it closes the connection instead.
std::optional<wire::Handshake> handshake(Harness& h, tcp::socket& s, const Sha1Hash& id) {
    auto out = wire::encode_handshake(wire::make_handshake(id, make_peer_id()));
    boost::asio::write(s, boost::asio::buffer(out));
    std::string in(wire::kHandshakeSize, '\0');
    std::optional<boost::system::error_code> done;
    boost::asio::async_read(s, boost::asio::buffer(in),
                            [&](boost::system::error_code ec, std::size_t) { done = ec; });
    for (int i = 0; i < 200 && !done; ++i) h.io.run_for(std::chrono::milliseconds(25));
    REQUIRE(done.has_value());
    if (*done) return std::nullopt;
    return wire::decode_handshake(in);
}

void wait_until_checked(Harness& h) {
    for (int i = 0; i < 100 && h.result("torrent.list")[0]["state"] == "checking"; ++i)
        h.io.run_for(std::chrono::milliseconds(50));
    REQUIRE(h.result("torrent.list")[0]["state"] == "downloading");
}

int wait_for_peers(Harness& h, int n) {
    int peers = 0;
    for (int i = 0; i < 100 && (peers = h.result("session.stats")["peers"].get<int>()) != n; ++i)
        h.io.run_for(std::chrono::milliseconds(20));
    return peers;
}

}  // namespace

TEST_CASE("session.set listen_port moves the listener at once; connected peers stay") {
    Harness h;
    h.add_single(false);
    wait_until_checked(h);
    const auto id = *sha1_from_hex(kSingleId);
    const int old_port = h.result("session.get")["listen_port"].get<int>();
    REQUIRE(old_port != 0);  // asked for 0, shows the port it got
    CHECK(h.result("session.stats")["listen_port"] == old_port);

    tcp::socket before(h.io);
    REQUIRE_FALSE(connect(h, before, old_port));
    auto answer = handshake(h, before, id);
    REQUIRE(answer.has_value());
    CHECK(answer->info_hash == id);
    REQUIRE(wait_for_peers(h, 1) == 1);

    const auto port = unused_port();
    auto updated = h.result("session.set", {{"listen_port", port}});
    CHECK(updated["listen_port"] == port);
    CHECK(h.result("session.get")["listen_port"] == port);
    CHECK(h.result("session.stats")["listen_port"] == port);
    REQUIRE(h.saved_settings.size() == 1);
    CHECK(h.saved_settings[0].listen_port == port);

    tcp::socket after(h.io);
    REQUIRE_FALSE(connect(h, after, port));
    answer = handshake(h, after, id);
    REQUIRE(answer.has_value());
    CHECK(answer->info_hash == id);
    tcp::socket stranger(h.io);  // a torrent we do not have: closed after its handshake
    REQUIRE_FALSE(connect(h, stranger, port));
    CHECK_FALSE(handshake(h, stranger, sha1("not ours")).has_value());

    tcp::socket old(h.io);
    CHECK(connect(h, old, old_port) == boost::asio::error::connection_refused);
    CHECK(wait_for_peers(h, 2) == 2);  // the peer that came in on the old port is still here

    // 0 = any free port: a new one, not the one in use
    auto any = h.result("session.set", {{"listen_port", 0}});
    const int picked = any["listen_port"].get<int>();
    CHECK(picked != 0);
    CHECK(picked != port);
    CHECK(h.result("session.stats")["listen_port"] == picked);
    tcp::socket third(h.io);
    CHECK_FALSE(connect(h, third, picked));
    tcp::socket gone(h.io);
    CHECK(connect(h, gone, port) == boost::asio::error::connection_refused);
    // the same port again, and other settings alone, leave the listener as it is
    CHECK(h.result("session.set", {{"listen_port", picked}})["listen_port"] == picked);
    CHECK(h.result("session.set", {{"upload_rate_limit", 1000}})["listen_port"] == picked);
    tcp::socket still(h.io);
    CHECK_FALSE(connect(h, still, picked));
}

TEST_CASE("session.set listen_port to a port in use fails and changes nothing") {
    Harness h;
    h.add_single(false);
    wait_until_checked(h);
    const int old_port = h.result("session.get")["listen_port"].get<int>();
    tcp::acceptor blocker(h.io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    const int busy = blocker.local_endpoint().port();

    auto r = h.call("session.set", {{"listen_port", busy}, {"download_rate_limit", 4096}});
    CAPTURE(r.dump());
    CHECK(r["error"]["code"] == errc::invalid_params);
    CHECK(r["error"]["message"] ==
          "cannot listen on port " + std::to_string(busy) + ": Address already in use");
    auto settings = h.result("session.get");
    CHECK(settings["listen_port"] == old_port);
    CHECK(settings["download_rate_limit"] == 0);
    CHECK(h.result("session.stats")["listen_port"] == old_port);
    CHECK(h.saved_settings.empty());

    tcp::socket s(h.io);
    REQUIRE_FALSE(connect(h, s, old_port));
    auto answer = handshake(h, s, *sha1_from_hex(kSingleId));
    REQUIRE(answer.has_value());
    CHECK(wait_for_peers(h, 1) == 1);
}
