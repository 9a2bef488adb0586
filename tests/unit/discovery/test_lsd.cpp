#include "core/discovery/lsd.hpp"

#include <doctest/doctest.h>

using namespace btd;
using namespace btd::discovery;
using namespace std::chrono_literals;

namespace {
Sha1Hash hash_of(std::uint8_t first) {
    Sha1Hash h{};
    h[0] = first;
    h[19] = 0xab;
    return h;
}
const auto t0 = LsdSchedule::Clock::time_point{} + 1000s;
}  // namespace

TEST_CASE("an LSD announce is BEP 14's BT-SEARCH and reads back the same") {
    LsdMessage m{6881, {hash_of(1), hash_of(2)}, "c0ffee"};
    auto text = encode_lsd(m);
    CHECK(text.rfind("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n", 0) ==
          0);
    CHECK(text.find("Infohash: 01000000000000000000000000000000000000ab\r\n") != std::string::npos);
    CHECK(text.find("cookie: c0ffee\r\n") != std::string::npos);
    CHECK(text.ends_with("\r\n\r\n"));
    auto back = decode_lsd(text);
    REQUIRE(back);
    CHECK(back->port == 6881);
    CHECK(back->info_hashes == m.info_hashes);
    CHECK(back->cookie == "c0ffee");
}

TEST_CASE("LSD reads other clients' spelling: header case, upper-case hex, bare newlines") {
    auto m = decode_lsd(
        "BT-SEARCH * HTTP/1.1\nhost: 239.192.152.143:6771\nPORT:  51413 \n"
        "INFOHASH: 01000000000000000000000000000000000000AB\n\n");
    REQUIRE(m);
    CHECK(m->port == 51413);
    REQUIRE(m->info_hashes.size() == 1);
    CHECK(m->info_hashes[0] == hash_of(1));
    CHECK(m->cookie.empty());
}

TEST_CASE("LSD ignores what is not a usable announce") {
    const std::string ih = "Infohash: 01000000000000000000000000000000000000ab\r\n";
    CHECK_FALSE(decode_lsd(""));
    CHECK_FALSE(decode_lsd("M-SEARCH * HTTP/1.1\r\nPort: 1\r\n" + ih + "\r\n"));  // SSDP
    CHECK_FALSE(decode_lsd("BT-SEARCH * HTTP/1.1\r\n" + ih + "\r\n"));            // no port
    CHECK_FALSE(decode_lsd("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\n" + ih + "\r\n"));
    CHECK_FALSE(decode_lsd("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\n" + ih + "\r\n"));
    CHECK_FALSE(decode_lsd("BT-SEARCH * HTTP/1.1\r\nPort: 12ab\r\n" + ih + "\r\n"));
    CHECK_FALSE(decode_lsd("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: xyz\r\n\r\n"));
    // Headers after the blank line are not headers.
    CHECK_FALSE(decode_lsd("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n" + ih));
    std::string huge = "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n" + ih;
    huge += std::string(kMaxLsdDatagram, 'x');
    CHECK_FALSE(decode_lsd(huge));
}

TEST_CASE("LSD reads each info-hash of one datagram once") {
    std::string text = "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n";
    for (int i = 0; i < 24; ++i)
        text += "Infohash: " + to_hex(hash_of(std::uint8_t(i % 12))) + "\r\n";
    auto m = decode_lsd(text + "\r\n");
    REQUIRE(m);
    CHECK(m->info_hashes.size() == 12);
    CHECK(m->info_hashes[11] == hash_of(11));
}

TEST_CASE("LSD announces each torrent at once, then every 5 minutes, one datagram a second") {
    LsdSchedule s;
    auto a = hash_of(1), b = hash_of(2);
    CHECK(s.next({a, b}, t0) == a);
    CHECK_FALSE(s.next({a, b}, t0 + 500ms));  // the gap between datagrams
    CHECK(s.next({a, b}, t0 + 1s) == b);
    CHECK_FALSE(s.next({a, b}, t0 + 2s));  // both announced: quiet
    CHECK_FALSE(s.next({a, b}, t0 + 299s));
    CHECK(s.next({a, b}, t0 + 300s) == a);
    CHECK(s.next({a, b}, t0 + 302s) == b);
    // A torrent that stops being listed is forgotten: listed again, it is announced at once.
    CHECK_FALSE(s.next({b}, t0 + 310s));
    CHECK(s.next({a, b}, t0 + 311s) == a);
    CHECK_FALSE(s.next({}, t0 + 400s));
}
