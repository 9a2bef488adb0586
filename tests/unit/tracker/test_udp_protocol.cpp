#include <doctest/doctest.h>

#include "core/tracker/udp_protocol.hpp"

using namespace btd;
using namespace btd::tracker;
using namespace std::chrono_literals;

namespace {

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}
std::string be64(std::uint64_t v) {
    return be32(static_cast<std::uint32_t>(v >> 32)) + be32(static_cast<std::uint32_t>(v));
}
std::string hex(std::string_view s) {
    return to_hex(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

}  // namespace

TEST_CASE("UDP connect request and response") {
    CHECK(hex(udp::encode_connect(0x01020304)) == "00000417271019800000000001020304");
    std::string reply = be32(0) + be32(77) + be64(0x1122334455667788ULL);
    CHECK(udp::decode_connect(reply, 77) == 0x1122334455667788ULL);
    CHECK_THROWS_WITH_AS(udp::decode_connect(reply, 78), doctest::Contains("transaction id"),
                         TrackerError);
    CHECK_THROWS_WITH_AS(udp::decode_connect(reply.substr(0, 12), 77),
                         doctest::Contains("truncated"), TrackerError);
    CHECK_THROWS_AS(udp::decode_connect(reply.substr(0, 5), 77), TrackerError);
    std::string wrong_action = be32(1) + be32(77) + be64(1);
    CHECK_THROWS_WITH_AS(udp::decode_connect(wrong_action, 77), doctest::Contains("action"),
                         TrackerError);
}

TEST_CASE("UDP announce request has the BEP 15 layout") {
    AnnounceParams p;
    p.info_hash = hash_from_bytes("IIIIIIIIIIIIIIIIIIII");
    p.peer_id = hash_from_bytes("PPPPPPPPPPPPPPPPPPPP");
    p.downloaded = 0x0102;
    p.left = 0x0304;
    p.uploaded = 0x0506;
    p.event = Event::started;
    p.key = 0xCAFEBABE;
    p.numwant = 200;
    p.port = 6881;
    std::string packet = udp::encode_announce(0xAABBCCDDEEFF0011ULL, 0x99, p);
    REQUIRE(packet.size() == 98);
    std::string expected = be64(0xAABBCCDDEEFF0011ULL) + be32(1) + be32(0x99) +
                           std::string(20, 'I') + std::string(20, 'P') + be64(0x0102) +
                           be64(0x0304) + be64(0x0506) + be32(2) + be32(0) + be32(0xCAFEBABE) +
                           be32(200) + std::string("\x1a\xe1", 2);
    CHECK(hex(packet) == hex(expected));

    CHECK(udp::event_code(Event::none) == 0);
    CHECK(udp::event_code(Event::completed) == 1);
    CHECK(udp::event_code(Event::started) == 2);
    CHECK(udp::event_code(Event::stopped) == 3);
}

TEST_CASE("UDP announce response, IPv4 and IPv6") {
    std::string v4 = be32(1) + be32(5) + be32(1800) + be32(3) + be32(4) +
                     std::string("\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50", 12);
    auto r = udp::decode_announce(v4, 5, false);
    CHECK(r.interval == 1800s);
    CHECK(r.leechers == 3);
    CHECK(r.seeders == 4);
    REQUIRE(r.peers.size() == 2);
    CHECK(r.peers[0].address().to_string() == "127.0.0.1");
    CHECK(r.peers[0].port() == 6881);
    CHECK(r.peers[1].port() == 80);

    std::string addr6(16, '\0');
    addr6[15] = 1;
    std::string v6 =
        be32(1) + be32(5) + be32(10) + be32(0) + be32(0) + addr6 + std::string("\x00\x50", 2);
    auto r6 = udp::decode_announce(v6, 5, true);
    CHECK(r6.interval == kMinInterval);  // clamped
    REQUIRE(r6.peers.size() == 1);
    CHECK(r6.peers[0].address().to_string() == "::1");

    // A cut-off entry at the end is dropped; the whole entries before it are kept.
    CHECK(udp::decode_announce(v4, 5, true).peers.empty());  // 12 bytes: no whole IPv6 entry
    CHECK(udp::decode_announce(v4 + "x", 5, false).peers.size() == 2);
    CHECK(udp::decode_announce(v6 + "abc", 5, true).peers.size() == 1);
    CHECK_THROWS_AS(udp::decode_announce(v4.substr(0, 19), 5, false), TrackerError);
    CHECK_THROWS_AS(udp::decode_announce(v4, 6, false), TrackerError);
}

TEST_CASE("UDP error action carries the tracker's message") {
    std::string err = be32(3) + be32(9) + "connection id mismatch";
    CHECK_THROWS_WITH_AS(udp::decode_announce(err, 9, false), "connection id mismatch",
                         TrackerFailure);
    CHECK_THROWS_WITH_AS(udp::decode_connect(err, 9), "connection id mismatch", TrackerFailure);
    auto header = udp::peek_header(err);
    REQUIRE(header);
    CHECK(header->action == udp::Action::error);
    CHECK(header->transaction_id == 9);
    CHECK_FALSE(udp::peek_header("1234567"));
}

TEST_CASE("UDP scrape round trip") {
    Sha1Hash a{}, b{};
    a.fill(1);
    b.fill(2);
    std::vector<Sha1Hash> hashes{a, b};
    std::string request = udp::encode_scrape(42, 7, hashes);
    REQUIRE(request.size() == 16 + 40);
    CHECK(request.substr(0, 16) == be64(42) + be32(2) + be32(7));
    CHECK(request.substr(16, 20) == std::string(20, '\x01'));

    std::string reply =
        be32(2) + be32(7) + be32(10) + be32(20) + be32(30) + be32(1) + be32(2) + be32(3);
    auto entries = udp::decode_scrape(reply, 7, 2);
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].seeders == 10);
    CHECK(entries[0].downloaded == 20);
    CHECK(entries[0].leechers == 30);
    CHECK(entries[1].leechers == 3);
    CHECK_THROWS_AS(udp::decode_scrape(reply.substr(0, 30), 7, 2), TrackerError);
    CHECK_THROWS_AS(udp::decode_scrape(reply, 8, 2), TrackerError);
}
