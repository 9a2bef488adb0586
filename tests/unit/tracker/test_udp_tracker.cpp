// UDP tracker client against scripted local responders: connection-id caching, stray packets,
// error replies and a tracker that never answers (short base timeout).
#include <doctest/doctest.h>

#include "core/tracker/tracker_client.hpp"
#include "core/tracker/udp_protocol.hpp"
#include "tracker_test_support.hpp"

using namespace btd;
using namespace btd::tracker;
using namespace tracker_test;

namespace {

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}
std::uint32_t read32(const std::string& p, std::size_t at) {
    auto b = reinterpret_cast<const unsigned char*>(p.data() + at);
    return (std::uint32_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
}

constexpr std::uint64_t kConnectionId = 0x0102030405060708ULL;

// A minimal BEP 15 tracker: answers connect and announce (one peer, port 7000) and scrape.
std::vector<std::string> fake_tracker(const std::string& packet, bool send_stray_first) {
    if (packet.size() < 16) return {};
    std::uint32_t action = read32(packet, 8), txid = read32(packet, 12);
    std::vector<std::string> out;
    if (send_stray_first) out.push_back(be32(action) + be32(txid + 1) + std::string(12, '\0'));
    if (action == 0) {
        out.push_back(be32(0) + be32(txid) + be32(kConnectionId >> 32) +
                      be32(kConnectionId & 0xffffffff));
    } else if (read32(packet, 0) != (kConnectionId >> 32) ||
               read32(packet, 4) != (kConnectionId & 0xffffffff)) {
        out.push_back(be32(3) + be32(txid) + "bad connection id");
    } else if (action == 1) {
        out.push_back(be32(1) + be32(txid) + be32(900) + be32(2) + be32(1) +
                      std::string("\x7f\x00\x00\x01\x1b\x58", 6));
    } else if (action == 2) {
        out.push_back(be32(2) + be32(txid) + be32(4) + be32(8) + be32(6));
    }
    return out;
}

AnnounceParams params() {
    AnnounceParams p;
    p.info_hash.fill(0x22);
    p.peer_id = make_peer_id();
    p.port = 6881;
    return p;
}

std::optional<AnnounceOutcome> announce(asio::io_context& io, TrackerContext& ctx,
                                        const std::string& url,
                                        std::optional<std::chrono::milliseconds> timeout = {}) {
    std::optional<AnnounceOutcome> result;
    send_announce(ctx, url, params(), timeout, [&](AnnounceOutcome o) { result = std::move(o); });
    run_until(
        io, [&] { return result.has_value(); }, 15s);
    return result;
}

std::size_t count_action(const std::vector<std::string>& packets, std::uint32_t action) {
    std::size_t n = 0;
    for (const auto& p : packets)
        if (p.size() >= 16 && read32(p, 8) == action) ++n;
    return n;
}

}  // namespace

TEST_CASE("UDP announce: connect, announce, and the connection id is reused") {
    asio::io_context io;
    TrackerContext ctx(io);
    ctx.state().settings.udp_base_timeout = std::chrono::milliseconds(200);
    UdpServer server(io, [](const std::string& p) { return fake_tracker(p, true); });

    auto first = announce(io, ctx, server.url());
    REQUIRE(first);
    CHECK(first->error == "");
    CHECK(first->response.interval == std::chrono::seconds(900));
    CHECK(first->response.leechers == 2);
    CHECK(first->response.seeders == 1);
    REQUIRE(first->response.peers.size() == 1);
    CHECK(first->response.peers[0].port() == 7000);

    auto second = announce(io, ctx, server.url());
    REQUIRE(second);
    CHECK(second->ok());
    CHECK(count_action(server.received(), 0) == 1);  // one connect for two announces
    CHECK(count_action(server.received(), 1) == 2);
    REQUIRE(server.received().size() == 3);
    CHECK(server.received()[1].size() == 98);

    std::optional<ScrapeOutcome> scraped;
    send_scrape(ctx, server.url(), params().info_hash, std::nullopt,
                [&](ScrapeOutcome o) { scraped = o; });
    REQUIRE(run_until(io, [&] { return scraped.has_value(); }));
    CHECK(scraped->ok());
    CHECK(scraped->info.seeders == 4);
    CHECK(scraped->info.downloaded == 8);
    CHECK(scraped->info.leechers == 6);
}

TEST_CASE("UDP announce: an expired connection id means a new connect") {
    asio::io_context io;
    TrackerContext ctx(io);
    ctx.state().settings.udp_connection_id_lifetime = std::chrono::seconds(0);
    UdpServer server(io, [](const std::string& p) { return fake_tracker(p, false); });
    REQUIRE(announce(io, ctx, server.url())->ok());
    REQUIRE(announce(io, ctx, server.url())->ok());
    CHECK(count_action(server.received(), 0) == 2);
}

TEST_CASE("UDP error replies are reported and drop the cached connection id") {
    asio::io_context io;
    TrackerContext ctx(io);
    UdpServer server(io, [](const std::string& p) { return fake_tracker(p, false); });
    auto key = "127.0.0.1:" + std::to_string(server.port());
    ctx.state().udp_connections[key] = {0xdead, std::chrono::steady_clock::now()};
    auto result = announce(io, ctx, server.url());
    REQUIRE(result);
    CHECK(result->error == "bad connection id");
    CHECK(ctx.state().udp_connections.count(key) == 0);
    CHECK(announce(io, ctx, server.url())->ok());  // recovers with a fresh connect
}

TEST_CASE("UDP tracker that never answers: retransmits with back-off, then reports") {
    asio::io_context io;
    TrackerContext ctx(io);
    ctx.state().settings.udp_base_timeout = std::chrono::milliseconds(50);
    ctx.state().settings.udp_max_retransmits = 2;
    UdpServer silent(io, [](const std::string&) { return std::vector<std::string>{}; });
    auto started = std::chrono::steady_clock::now();
    auto result = announce(io, ctx, silent.url());
    auto elapsed = std::chrono::steady_clock::now() - started;
    REQUIRE(result);
    CHECK(result->error == "UDP tracker did not answer after 3 attempts");
    CHECK(silent.received().size() == 3);
    CHECK(elapsed >= std::chrono::milliseconds(50 + 100 + 200));  // 50 * (1 + 2 + 4)
    CHECK(elapsed < std::chrono::seconds(3));

    // an overall timeout cuts the schedule short
    ctx.state().settings.udp_base_timeout = std::chrono::seconds(15);
    auto cut = announce(io, ctx, silent.url(), std::chrono::milliseconds(200));
    REQUIRE(cut);
    CHECK(cut->error == "UDP tracker did not answer in time");
}

TEST_CASE("UDP tracker port closed: reported quickly") {
    asio::io_context io;
    TrackerContext ctx(io);
    auto result = announce(io, ctx, "udp://127.0.0.1:" + std::to_string(free_udp_port()),
                           std::chrono::seconds(5));
    REQUIRE(result);
    CHECK(result->error.find("connection refused") != std::string::npos);
}

TEST_CASE("UDP tracker over IPv6 returns 18-byte peers") {
    asio::io_context io;
    TrackerContext ctx(io);
    std::unique_ptr<UdpServer> server;
    try {
        server = std::make_unique<UdpServer>(
            io,
            [](const std::string& p) {
                std::uint32_t action = read32(p, 8), txid = read32(p, 12);
                if (action == 0)
                    return std::vector<std::string>{be32(0) + be32(txid) + be32(0) + be32(1)};
                std::string peer(15, '\0');
                peer += std::string("\x01\x1b\x59", 3);  // [::1]:7001
                return std::vector<std::string>{be32(1) + be32(txid) + be32(900) + be32(0) +
                                                be32(1) + peer};
            },
            "::1");
    } catch (const boost::system::system_error&) {
        MESSAGE("skipped: no IPv6 loopback here");
        return;
    }
    auto result = announce(io, ctx, server->url());
    REQUIRE(result);
    REQUIRE_MESSAGE(result->ok(), result->error);
    REQUIRE(result->response.peers.size() == 1);
    CHECK(result->response.peers[0].address().to_string() == "::1");
    CHECK(result->response.peers[0].port() == 7001);
}

TEST_CASE("UDP garbage replies are errors, not crashes") {
    asio::io_context io;
    TrackerContext ctx(io);
    UdpServer server(io, [](const std::string& p) {
        std::uint32_t txid = read32(p, 12);
        return std::vector<std::string>{be32(0) + be32(txid) + "xx"};  // truncated connect reply
    });
    auto result = announce(io, ctx, server.url());
    REQUIRE(result);
    CHECK(result->error.find("truncated") != std::string::npos);
}
