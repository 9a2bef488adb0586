#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/metainfo/magnet.hpp"
#include "core/util/ascii.hpp"

using namespace btd;

namespace {

constexpr std::string_view kHex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
constexpr std::string_view kBase32 = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK";  // the same 20 bytes

std::string magnet(std::string_view params) {
    return "magnet:?xt=urn:btih:" + std::string(kHex) + std::string(params);
}

std::string hex_of(const MagnetLink& link) {
    return to_hex(link.info_hash);
}

}  // namespace

TEST_CASE("a magnet with a hex info-hash, a name and a tracker parses into its parts") {
    auto link = parse_magnet(magnet("&dn=Some+Name%20here&tr=udp%3A%2F%2Ftracker.example%3A1337"));
    CHECK(hex_of(link) == kHex);
    CHECK(link.display_name == "Some Name here");
    REQUIRE(link.trackers.size() == 1);
    CHECK(link.trackers[0] == "udp://tracker.example:1337");
    CHECK(link.peers.empty());
    CHECK(link.notes.empty());
}

TEST_CASE("a base32 info-hash decodes to the same bytes as its hex form, in any case") {
    auto upper = parse_magnet("magnet:?xt=urn:btih:" + std::string(kBase32));
    CHECK(hex_of(upper) == kHex);
    std::string lower(kBase32);
    for (char& c : lower) c = ascii_lower(c);
    CHECK(hex_of(parse_magnet("MAGNET:?XT=URN:BTIH:" + lower)) == kHex);
    CHECK(hex_of(parse_magnet("magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A")) ==
          kHex);
}

TEST_CASE("the parameters may come in any order, and xt may be numbered") {
    auto link = parse_magnet("magnet:?dn=x&tr=http://a.example/announce&xt.1=urn:btih:" +
                             std::string(kHex));
    CHECK(hex_of(link) == kHex);
    CHECK(link.display_name == "x");
    CHECK(link.trackers == std::vector<std::string>{"http://a.example/announce"});
}

TEST_CASE("every tracker is kept once, in the order given, numbered or not") {
    auto link = parse_magnet(magnet(
        "&tr=udp://b.example:80&tr.1=http://a.example/ann&tr=udp://b.example:80&tr.2=https://"
        "c.example/x%3Fk%3Dv%26w"));
    CHECK(link.trackers == std::vector<std::string>{"udp://b.example:80", "http://a.example/ann",
                                                    "https://c.example/x?k=v&w"});
}

TEST_CASE("a '+' in a tracker URL stays a '+'; in the name it is a space") {
    auto link = parse_magnet(magnet("&dn=a+b&tr=http://t.example/a+b"));
    CHECK(link.display_name == "a b");
    CHECK(link.trackers == std::vector<std::string>{"http://t.example/a+b"});
}

TEST_CASE("trackers that are not http, https or udp URLs are skipped with a note") {
    auto link = parse_magnet(magnet("&tr=wss://t.example/ws&tr=not-a-url&tr=udp://ok.example:1"));
    CHECK(link.trackers == std::vector<std::string>{"udp://ok.example:1"});
    REQUIRE(link.notes.size() == 2);
    CHECK(link.notes[0].find("wss://t.example/ws") != std::string::npos);
    CHECK(link.notes[1].find("not-a-url") != std::string::npos);
}

TEST_CASE("x.pe peers are read as IPv4 and bracketed IPv6 endpoints, de-duplicated") {
    auto link = parse_magnet(
        magnet("&x.pe=10.0.0.1:6881&x.pe=%5B2001:db8::1%5D:51413&x.pe=10.0.0.1:6881&x.pe=[::1]:1"));
    REQUIRE(link.peers.size() == 3);
    CHECK(link.peers[0].address().to_string() == "10.0.0.1");
    CHECK(link.peers[0].port() == 6881);
    CHECK(link.peers[1].address().to_string() == "2001:db8::1");
    CHECK(link.peers[1].port() == 51413);
    CHECK(link.peers[2].address().to_string() == "::1");
}

TEST_CASE("an x.pe host name is skipped with a note, since only addresses are dialled") {
    auto link = parse_magnet(magnet("&x.pe=peer.example:6881"));
    CHECK(link.peers.empty());
    REQUIRE(link.notes.size() == 1);
    CHECK(link.notes[0].find("peer.example:6881") != std::string::npos);
}

TEST_CASE("malformed x.pe values are errors that quote the value") {
    for (std::string bad : {"10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:x", ":80",
                            "[::1:80", "::1:80", "[nonsense]:80"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH_AS(parse_magnet(magnet("&x.pe=" + bad)), doctest::Contains("x.pe"),
                             MetainfoError);
    }
}

TEST_CASE("web seeds and file selections are ignored with a note") {
    auto link = parse_magnet(magnet("&ws=http://seed.example/f&so=0,2,4-6"));
    REQUIRE(link.notes.size() == 2);
    CHECK(link.notes[0].find("ws") != std::string::npos);
    CHECK(link.notes[1].find("so") != std::string::npos);
}

TEST_CASE("notes are given once each, and at most 16 of them") {
    auto link = parse_magnet(magnet("&ws=a&ws=b&so=1&so=2"));
    CHECK(link.notes.size() == 2);
    std::string many;
    for (int i = 0; i < 100; ++i) many += "&x.pe=host" + std::to_string(i) + ".example:1";
    CHECK(parse_magnet(magnet(many)).notes.size() == 16);
}

TEST_CASE("unknown parameters, empty pairs and a fragment are ignored") {
    auto link = parse_magnet(magnet("&&xl=1234&kt=a+b&as=http://x/y#frag&tr=http://z/"));
    CHECK(hex_of(link) == kHex);
    CHECK(link.trackers.empty());  // after the '#', so not part of the query
    CHECK(link.notes.empty());
}

TEST_CASE("control characters in the display name are replaced") {
    auto link = parse_magnet(magnet("&dn=a%0Ab%00c"));
    CHECK(link.display_name == "a?b?c");
}

TEST_CASE("a hybrid magnet with btih and btmh uses btih and notes the v2 hash") {
    auto link = parse_magnet(magnet("&xt=urn:btmh:1220" + std::string(64, 'a')));
    CHECK(hex_of(link) == kHex);
    REQUIRE(link.notes.size() == 1);
    CHECK(link.notes[0].find("btmh") != std::string::npos);
}

TEST_CASE("the same info-hash repeated is fine; two different ones are an error") {
    CHECK(hex_of(parse_magnet(magnet("&xt=urn:btih:" + std::string(kBase32)))) == kHex);
    CHECK_THROWS_WITH_AS(parse_magnet(magnet("&xt=urn:btih:" + std::string(40, '0'))),
                         doctest::Contains("two different info-hashes"), MetainfoError);
}

TEST_CASE("malformed magnets are refused with a message naming the problem") {
    auto refuses = [](const std::string& uri, const char* what) {
        CAPTURE(uri);
        CHECK_THROWS_WITH_AS(parse_magnet(uri), doctest::Contains(what), MetainfoError);
    };
    refuses("http://example.com/x.torrent", "does not start with 'magnet:?'");
    refuses("magnet:xt=urn:btih:" + std::string(kHex), "does not start with 'magnet:?'");
    refuses("magnet:?dn=nothing", "no 'xt=urn:btih:'");
    refuses("magnet:?", "no 'xt=urn:btih:'");
    refuses("magnet:?xt=urn:btmh:1220" + std::string(64, 'a'), "v2-only");
    refuses("magnet:?xt=urn:sha1:" + std::string(kBase32), "is not 'urn:btih:");
    refuses("magnet:?xt=urn:btih:" + std::string(39, 'a') + "g", "not 40 hexadecimal");
    refuses("magnet:?xt=urn:btih:" + std::string(31, 'A') + "1", "not valid base32");
    refuses("magnet:?xt=urn:btih:abc", "has 3 characters");
    refuses(magnet("&dn=%4"), "bad %-escape");
    refuses(magnet("&dn=%zz"), "bad %-escape");
    refuses(magnet("&justakey"), "not key=value");
    refuses(magnet("&=value"), "not key=value");
    refuses(magnet("&dn=" + std::string(kMaxMagnetLength, 'x')), "limit is");
}

TEST_CASE("the tracker and peer lists are bounded") {
    std::string many_trackers;
    for (std::size_t i = 0; i <= kMaxMagnetTrackers; ++i)
        many_trackers += "&tr=http://t" + std::to_string(i) + ".example/";
    CHECK_THROWS_WITH_AS(parse_magnet(magnet(many_trackers)), doctest::Contains("trackers"),
                         MetainfoError);
    std::string many_peers;
    for (std::size_t i = 0; i <= kMaxMagnetPeers; ++i)
        many_peers +=
            "&x.pe=10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":80";
    CHECK_THROWS_WITH_AS(parse_magnet(magnet(many_peers)), doctest::Contains("peers"),
                         MetainfoError);
}

TEST_CASE("make_magnet builds a link that parses back to the same parts") {
    auto hash = *sha1_from_hex(kHex);
    std::vector<std::string> trackers{"udp://t.example:80/announce", "http://h.example/a?x=1&y=2"};
    std::string uri = make_magnet(hash, "My File (1) & more+", trackers);
    CHECK(uri.rfind("magnet:?xt=urn:btih:" + std::string(kHex), 0) == 0);
    CHECK(uri.find(' ') == std::string::npos);
    auto link = parse_magnet(uri);
    CHECK(link.info_hash == hash);
    CHECK(link.display_name == "My File (1) & more+");
    CHECK(link.trackers == trackers);
    CHECK(make_magnet(hash, "", {}) == "magnet:?xt=urn:btih:" + std::string(kHex));
}

TEST_CASE("is_magnet_uri recognises the scheme in any case") {
    CHECK(is_magnet_uri("magnet:?xt=..."));
    CHECK(is_magnet_uri("MaGnEt:?"));
    CHECK_FALSE(is_magnet_uri("http://x/magnet:"));
    CHECK_FALSE(is_magnet_uri("magnet"));
}

TEST_CASE("mutated magnet links parse or throw MetainfoError, nothing else") {
    const std::string seed = magnet(
        "&dn=Some+Name%20x&tr=udp%3A%2F%2Ft.example%3A80&x.pe=10.0.0.1:6881&x.pe=[::1]:2&ws=a");
    std::mt19937 rng(13);
    const std::string alphabet = "%&=+:[]?.0123456789abcdefABCDEF";
    int parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string s = seed;
        for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0 && !s.empty(); --edits) {
            std::size_t at = rng() % s.size();
            if (rng() % 2)
                s[at] = rng() % 2 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
            else
                s.erase(at, 1);
        }
        try {
            auto link = parse_magnet(s);
            CHECK(link.trackers.size() <= kMaxMagnetTrackers);
            ++parsed;
        } catch (const MetainfoError&) {
        }
    }
    MESSAGE("magnet mutation: parsed " << parsed << " of 20000");
}

TEST_CASE("a .magnet file holds one link; blanks around it are ignored, anything else fails") {
    auto dir =
        std::filesystem::temp_directory_path() / ("btd-magnet-file-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name, std::ios::binary) << text;
        return dir / name;
    };
    CHECK(btd::is_magnet_file("a/b.MAGNET"));
    CHECK_FALSE(btd::is_magnet_file("a/b.torrent"));
    auto good = write("good.magnet",
                      "\n  magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x \r\n");
    auto link = btd::load_magnet_file(good);
    CHECK(link.display_name == "x");
    CHECK_THROWS_AS(btd::load_magnet_file(write("empty.magnet", " \n")), btd::MetainfoError);
    CHECK_THROWS_AS(btd::load_magnet_file(write("junk.magnet", "not a link")), btd::MetainfoError);
    CHECK_THROWS_AS(btd::load_magnet_file(dir / "absent.magnet"), btd::MetainfoError);
    std::filesystem::remove_all(dir);
}
