#include <doctest/doctest.h>

#include "core/tracker/announce_url.hpp"

using namespace btd;
using namespace btd::tracker;

namespace {

AnnounceParams sample_params() {
    const std::string hash_bytes =
        std::string("aZ0-._~ /?&=%") + std::string(1, '\0') + "\xff\x80+bcd";
    REQUIRE(hash_bytes.size() == 20);
    AnnounceParams p;
    p.info_hash = hash_from_bytes(hash_bytes);
    p.peer_id = hash_from_bytes("-BD0010-abcdefghijkl");
    p.port = 6881;
    p.uploaded = 1;
    p.downloaded = 2;
    p.left = 3;
    p.event = Event::started;
    p.numwant = 200;
    p.key = 0xDEADBEEF;
    return p;
}

const std::string kQuery =
    "info_hash=aZ0-._~%20%2F%3F%26%3D%25%00%FF%80%2Bbcd&peer_id=-BD0010-abcdefghijkl&port=6881"
    "&uploaded=1&downloaded=2&left=3&compact=1&event=started&numwant=200&key=DEADBEEF";

}  // namespace

TEST_CASE("percent encoding is byte-wise and keeps only unreserved characters") {
    CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(percent_encode(std::string("\x00\x01 \xff", 4)) == "%00%01%20%FF");
    CHECK(percent_encode("a+b=c&d") == "a%2Bb%3Dc%26d");
    CHECK(percent_encode("") == "");
}

TEST_CASE("announce URL carries every parameter in a fixed order") {
    CHECK(build_announce_url("http://t.example/announce", sample_params()) ==
          "http://t.example/announce?" + kQuery);
}

TEST_CASE("announce URL appends to an existing query") {
    CHECK(build_announce_url("http://t.example/a.php?passkey=xyz", sample_params()) ==
          "http://t.example/a.php?passkey=xyz&" + kQuery);
    CHECK(build_announce_url("http://t.example/a?", sample_params()) ==
          "http://t.example/a?" + kQuery);
    CHECK(build_announce_url("http://t.example/a?x=1&", sample_params()) ==
          "http://t.example/a?x=1&" + kQuery);
}

TEST_CASE("announce URL: no event for regular announces, tracker id echoed, numwant 0") {
    auto p = sample_params();
    p.event = Event::none;
    p.tracker_id = "id 7";
    p.numwant = 0;
    p.key = 0x1;
    std::string url = build_announce_url("https://t.example:8443/announce", p);
    CHECK(url.find("event=") == std::string::npos);
    CHECK(url.ends_with("&compact=1&numwant=0&key=00000001&trackerid=id%207"));
    p.event = Event::stopped;
    CHECK(build_announce_url("http://x/announce", p).find("&event=stopped&") != std::string::npos);
    p.event = Event::completed;
    CHECK(build_announce_url("http://x/announce", p).find("&event=completed&") !=
          std::string::npos);
}

TEST_CASE("URL parsing") {
    auto u = parse_url("HTTP://Tracker.Example:8080/ann?x=1#frag");
    REQUIRE(u);
    CHECK(u->scheme == "http");
    CHECK(u->host == "tracker.example");
    CHECK(u->port == 8080);
    CHECK(u->target == "/ann?x=1");

    auto d = parse_url("https://t.example");
    REQUIRE(d);
    CHECK(d->port == 443);
    CHECK(d->target == "/");

    auto v6 = parse_url("udp://[::1]:6969/announce");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->port == 6969);

    auto q = parse_url("http://t.example?a=b");
    REQUIRE(q);
    CHECK(q->target == "/?a=b");

    CHECK_FALSE(parse_url("udp://t.example/announce"));  // udp has no default port
    CHECK_FALSE(parse_url("http://t.example:0/"));
    CHECK_FALSE(parse_url("http://t.example:99999/"));
    CHECK_FALSE(parse_url("http://t.example:12ab/"));
    CHECK_FALSE(parse_url("t.example/announce"));
    CHECK_FALSE(parse_url("http:///announce"));
    CHECK_FALSE(parse_url("http://[::1/announce"));
    CHECK_FALSE(parse_url("http://user:pw@t.example/"));
}

TEST_CASE("scrape URL derivation follows BEP 48") {
    CHECK(scrape_url_from_announce("http://t.example/announce") == "http://t.example/scrape");
    CHECK(scrape_url_from_announce("http://t.example/x/announce.php?pk=1") ==
          "http://t.example/x/scrape.php?pk=1");
    CHECK(scrape_url_from_announce("http://t.example/announce?x=/announce") ==
          "http://t.example/scrape?x=/announce");
    CHECK(scrape_url_from_announce("http://t.example:80/announcer") ==
          "http://t.example:80/scraper");
    CHECK_FALSE(scrape_url_from_announce("http://t.example/a"));
    CHECK_FALSE(scrape_url_from_announce("http://t.example/announce/x"));
    CHECK_FALSE(scrape_url_from_announce("http://t.example/x?announce"));
    CHECK_FALSE(scrape_url_from_announce("http://announce"));
}

TEST_CASE("scrape URL carries the info hash") {
    Sha1Hash h{};
    h[0] = 0xab;
    h[19] = 'z';
    CHECK(build_scrape_url("http://t/scrape", h) ==
          "http://t/scrape?info_hash=%AB%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00z");
    CHECK(build_scrape_url("http://t/scrape?pk=1", h)
              .starts_with("http://t/scrape?pk=1&info_hash=%AB"));
}
