#include <doctest/doctest.h>

#include "core/tracker/response_parser.hpp"

using namespace btd;
using namespace btd::tracker;
using namespace std::chrono_literals;

namespace {

std::string bstr(const std::string& s) {
    return std::to_string(s.size()) + ":" + s;
}

std::string compact4(std::initializer_list<std::array<unsigned char, 6>> peers) {
    std::string out;
    for (auto& p : peers) out.append(reinterpret_cast<const char*>(p.data()), p.size());
    return out;
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
    return e.address().to_string() + ":" + std::to_string(e.port());
}

}  // namespace

TEST_CASE("compact IPv4 peers (BEP 23)") {
    auto peers =
        parse_compact_peers_v4(compact4({{10, 0, 0, 1, 0x1a, 0xe1}, {192, 168, 1, 2, 0, 80}}));
    REQUIRE(peers.size() == 2);
    CHECK(endpoint_text(peers[0]) == "10.0.0.1:6881");
    CHECK(endpoint_text(peers[1]) == "192.168.1.2:80");
    CHECK(parse_compact_peers_v4("").empty());
    CHECK(parse_compact_peers_v4(compact4({{1, 2, 3, 4, 0, 0}})).empty());  // port 0 dropped
    CHECK(parse_compact_peers_v4("12345").empty());  // a cut-off entry alone: no peer
}

TEST_CASE("compact IPv6 peers (BEP 7)") {
    std::string one(16, '\0');
    one[15] = 1;
    one += "\x1a\xe1";
    auto peers = parse_compact_peers_v6(one);
    REQUIRE(peers.size() == 1);
    CHECK(peers[0].address().to_string() == "::1");
    CHECK(peers[0].port() == 6881);
    CHECK(parse_compact_peers_v6(one.substr(0, 17)).empty());
}

TEST_CASE("full announce response") {
    std::string peers = compact4({{127, 0, 0, 1, 0x1f, 0x90}});
    std::string peers6(16, '\0');
    peers6[15] = 1;
    peers6 += std::string("\x1f\x91", 2);
    std::string body = "d8:completei5e10:incompletei7e8:intervali900e12:min intervali60e5:peers" +
                       bstr(peers) + "6:peers6" + bstr(peers6) + "10:tracker id" + bstr("abc") +
                       "15:warning message" + bstr("be nice") + "e";
    auto r = parse_announce_response(body);
    CHECK(r.interval == 900s);
    REQUIRE(r.min_interval);
    CHECK(*r.min_interval == 60s);
    CHECK(r.seeders == 5);
    CHECK(r.leechers == 7);
    CHECK(r.tracker_id == "abc");
    CHECK(r.warning == "be nice");
    REQUIRE(r.peers.size() == 2);
    CHECK(endpoint_text(r.peers[0]) == "127.0.0.1:8080");
    CHECK(endpoint_text(r.peers[1]) == "::1:8081");
}

TEST_CASE("dictionary peer list (BEP 3 non-compact)") {
    std::string body =
        "d8:intervali1800e5:peersl"
        "d2:ip8:10.0.0.97:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee"
        "d2:ip3:::14:porti51413ee"
        "d2:ip11:example.org4:porti1ee"  // host names are skipped
        "d2:ip8:10.0.0.84:porti0ee"      // port 0 skipped
        "ee";
    auto r = parse_announce_response(body);
    REQUIRE(r.peers.size() == 2);
    CHECK(endpoint_text(r.peers[0]) == "10.0.0.9:6881");
    CHECK(endpoint_text(r.peers[1]) == "::1:51413");
    CHECK_FALSE(r.min_interval);
    CHECK(r.seeders == -1);
}

TEST_CASE("one bad peer entry is skipped, the rest of the reply is kept") {
    SUBCASE("dictionary model, IPv4 and IPv6") {
        auto entry = [](const std::string& ip, const std::string& port) {
            return "d2:ip" + bstr(ip) + "4:port" + port + "e";
        };
        std::string body = "d8:intervali1800e5:peersl" + entry("10.0.0.1", "i6881e") +
                           entry("10.0.0.300", "i6881e") +     // not an address
                           entry("10.0.0.2", "i65536e") +      // port out of range
                           entry("10.0.0.3", "i-1e") +         // negative port
                           entry("10.0.0.4", "4:6881") +       // port not an integer
                           entry("2001:db8", "i1e") +          // cut-off IPv6 text
                           entry("2001:db8::1::2", "i1e") +    // two '::'
                           entry("2001:db8::4", "i51413e") +   // good IPv6
                           entry("::ffff:10.0.0.7", "i80e") +  // good v4-mapped IPv6
                           "d2:ipi10e4:porti6881ee" +          // ip not a string
                           "d4:porti6881ee" +                  // no ip
                           "d2:ip8:10.0.0.5e" +                // no port
                           "i7e" +                             // not a dictionary
                           "l8:10.0.0.6i6881ee" +              // a list, not a dictionary
                           entry("10.0.0.8", "i65535e") +      // good, highest port
                           "ee";
        auto r = parse_announce_response(body);
        REQUIRE(r.peers.size() == 4);
        CHECK(endpoint_text(r.peers[0]) == "10.0.0.1:6881");
        CHECK(endpoint_text(r.peers[1]) == "2001:db8::4:51413");
        CHECK(endpoint_text(r.peers[2]) == "::ffff:10.0.0.7:80");
        CHECK(endpoint_text(r.peers[3]) == "10.0.0.8:65535");
        CHECK(r.interval == 1800s);
    }
    SUBCASE("compact model: a cut-off entry at the end of peers and peers6") {
        std::string peers = compact4({{10, 0, 0, 1, 0x1a, 0xe1}, {10, 0, 0, 2, 0, 0}}) + "abc";
        std::string peers6(16, '\0');
        peers6[15] = 1;
        peers6 += std::string("\x1f\x91", 2);
        peers6 += std::string(16, '\0') + std::string("\0\0", 2);  // port 0: skipped
        peers6 += "xyzzy";                                         // cut off
        std::string body =
            "d8:intervali900e5:peers" + bstr(peers) + "6:peers6" + bstr(peers6) + "e";
        auto r = parse_announce_response(body);
        REQUIRE(r.peers.size() == 2);
        CHECK(endpoint_text(r.peers[0]) == "10.0.0.1:6881");
        CHECK(endpoint_text(r.peers[1]) == "::1:8081");
        CHECK(r.interval == 900s);
    }
    SUBCASE("a reply whose every entry is bad has no peers but is still a reply") {
        auto r = parse_announce_response("d8:intervali60e5:peersli1ed2:ip3:::1eee");
        CHECK(r.peers.empty());
        CHECK(r.interval == 60s);
        CHECK(parse_announce_response("d8:intervali60e5:peers5:abcdee").peers.empty());
        CHECK(parse_announce_response("d8:intervali60e6:peers65:abcdee").peers.empty());
    }
}

TEST_CASE("interval is clamped to a sane range") {
    CHECK(parse_announce_response("d8:intervali5e5:peers0:e").interval == kMinInterval);
    CHECK(parse_announce_response("d8:intervali-100e5:peers0:e").interval == kMinInterval);
    CHECK(parse_announce_response("d8:intervali999999999e5:peers0:e").interval == kMaxInterval);
    CHECK(parse_announce_response("d5:peers0:e").interval == kDefaultInterval);
    // min interval never exceeds the interval itself
    auto r = parse_announce_response("d8:intervali100e12:min intervali5000e5:peers0:e");
    CHECK(*r.min_interval == 100s);
}

TEST_CASE("failure reason becomes an error carrying the tracker's text") {
    try {
        parse_announce_response("d14:failure reason17:torrent not founde");
        FAIL("expected TrackerFailure");
    } catch (const TrackerFailure& e) {
        CHECK(std::string(e.what()) == "torrent not found");
    }
    // control characters are not passed through to logs and UIs
    try {
        parse_announce_response(
            "d14:failure reason5:a\nb\x1b"
            "ce");
        FAIL("expected TrackerFailure");
    } catch (const TrackerFailure& e) {
        CHECK(std::string(e.what()) == "a?b?c");
    }
}

TEST_CASE("malformed announce responses are rejected with a clear error") {
    auto rejects = [](const std::string& body, const std::string& fragment) {
        try {
            parse_announce_response(body);
        } catch (const TrackerFailure&) {
            FAIL("not a tracker failure: " << body);
        } catch (const TrackerError& e) {
            CHECK_MESSAGE(std::string(e.what()).find(fragment) != std::string::npos, e.what());
            return;
        }
        FAIL("accepted: " << body);
    };
    rejects("", "not valid bencode");
    rejects("<html>502 Bad Gateway</html>", "not valid bencode");
    rejects("d8:intervali1800e", "not valid bencode");
    rejects("li1ee", "not a bencoded dictionary");
    rejects("de", "neither");
    rejects("d8:interval4:soone", "'interval' is not an integer");
    rejects("d8:intervali10e12:min interval1:xe", "'min interval'");
    rejects("d8:intervali10e5:peersi5ee", "'peers'");
    rejects("d8:intervali10e6:peers6i1ee", "'peers6'");
    rejects("d14:failure reasoni1ee", "'failure reason'");
    rejects("d8:completei1xe8:intervali10ee", "not valid bencode");
    rejects("d8:complete1:x8:intervali10ee", "'complete'");
    rejects("d8:intervali10e10:tracker idi1ee", "'tracker id'");
    rejects("d8:intervali10e15:warning messagei1ee", "'warning message'");
}

TEST_CASE("scrape response (BEP 48)") {
    Sha1Hash mine{};
    mine.fill('a');
    Sha1Hash other{};
    other.fill('b');
    std::string body = "d5:filesd20:" + std::string(20, 'a') +
                       "d8:completei3e10:downloadedi9e10:incompletei4ee20:" + std::string(20, 'b') +
                       "d8:completei1eeee";
    auto info = parse_scrape_response(body, mine);
    CHECK(info.seeders == 3);
    CHECK(info.leechers == 4);
    CHECK(info.downloaded == 9);
    auto partial = parse_scrape_response(body, other);
    CHECK(partial.seeders == 1);
    CHECK(partial.leechers == -1);

    Sha1Hash absent{};
    CHECK_THROWS_WITH_AS(parse_scrape_response(body, absent), doctest::Contains("does not list"),
                         TrackerError);
    CHECK_THROWS_AS(parse_scrape_response("d5:filesi1ee", mine), TrackerError);
    CHECK_THROWS_AS(parse_scrape_response("garbage", mine), TrackerError);
    CHECK_THROWS_WITH_AS(parse_scrape_response("d14:failure reason4:nopee", mine), "nope",
                         TrackerFailure);
}
