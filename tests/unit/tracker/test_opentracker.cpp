// Real-software check against Debian's opentracker on loopback, over HTTP and UDP: a second peer
// announcing the same info-hash must receive the first one.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/tracker/announcer.hpp"
#include "core/tracker/tracker_client.hpp"
#include "tracker_test_support.hpp"

using namespace btd;
using namespace btd::tracker;
using namespace tracker_test;

namespace {

Sha1Hash test_hash(std::uint8_t seed) {
    Sha1Hash h{};
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(seed + i * 7);
    return h;
}

AnnounceParams peer(const Sha1Hash& hash, std::uint16_t port, std::int64_t left) {
    AnnounceParams p;
    p.info_hash = hash;
    p.peer_id = make_peer_id();
    p.port = port;
    p.left = left;
    p.event = Event::started;
    p.key = port;
    return p;
}

bool contains_port(const Endpoints& peers, std::uint16_t port) {
    return std::any_of(peers.begin(), peers.end(), [&](const auto& e) {
        return e.port() == port && e.address().to_string() == "127.0.0.1";
    });
}

AnnounceOutcome announce(asio::io_context& io, TrackerContext& ctx, const std::string& url,
                         const AnnounceParams& p) {
    std::optional<AnnounceOutcome> result;
    send_announce(ctx, url, p, std::chrono::milliseconds(5000),
                  [&](AnnounceOutcome o) { result = o; });
    REQUIRE(run_until(
        io, [&] { return result.has_value(); }, std::chrono::seconds(10)));
    return *result;
}

}  // namespace

TEST_CASE("opentracker: two peers find each other over HTTP and UDP, scrape counts them") {
    if (!OpenTracker::available()) {
        MESSAGE("skipped: " << OpenTracker::kBinary << " is not installed");
        return;
    }
    Sha1Hash hash = test_hash(1);
    OpenTracker tracker(to_hex(hash));
    REQUIRE(tracker.running());
    REQUIRE(tracker.wait_ready());
    asio::io_context io;
    TrackerContext ctx(io);
    ctx.state().settings.udp_base_timeout = std::chrono::milliseconds(500);

    SUBCASE("HTTP") {
        auto first = announce(io, ctx, tracker.http_url(), peer(hash, 41001, 0));
        REQUIRE_MESSAGE(first.ok(), first.error);
        auto second = announce(io, ctx, tracker.http_url(), peer(hash, 41002, 100));
        REQUIRE_MESSAGE(second.ok(), second.error);
        CHECK(contains_port(second.response.peers, 41001));
        CHECK(second.response.interval >= kMinInterval);

        std::optional<ScrapeOutcome> scraped;
        send_scrape(ctx, tracker.http_url(), hash, std::nullopt,
                    [&](ScrapeOutcome o) { scraped = o; });
        REQUIRE(run_until(io, [&] { return scraped.has_value(); }));
        REQUIRE_MESSAGE(scraped->ok(), scraped->error);
        CHECK(scraped->info.seeders == 1);
        CHECK(scraped->info.leechers == 1);

        // a hash outside the whitelist is refused with the tracker's own words
        auto refused = announce(io, ctx, tracker.http_url(), peer(test_hash(2), 41003, 0));
        CHECK(refused.error.find("not authorized") != std::string::npos);
    }
    SUBCASE("UDP") {
        auto first = announce(io, ctx, tracker.udp_url(), peer(hash, 42001, 0));
        REQUIRE_MESSAGE(first.ok(), first.error);
        auto second = announce(io, ctx, tracker.udp_url(), peer(hash, 42002, 100));
        REQUIRE_MESSAGE(second.ok(), second.error);
        CHECK(contains_port(second.response.peers, 42001));
        CHECK(second.response.seeders >= 1);

        std::optional<ScrapeOutcome> scraped;
        send_scrape(ctx, tracker.udp_url(), hash, std::nullopt,
                    [&](ScrapeOutcome o) { scraped = o; });
        REQUIRE(run_until(io, [&] { return scraped.has_value(); }));
        REQUIRE_MESSAGE(scraped->ok(), scraped->error);
        CHECK(scraped->info.seeders >= 1);
    }
}

TEST_CASE("opentracker: Announcer start, peers, scrape and stop") {
    if (!OpenTracker::available()) {
        MESSAGE("skipped: " << OpenTracker::kBinary << " is not installed");
        return;
    }
    Sha1Hash hash = test_hash(9);
    OpenTracker tracker(to_hex(hash));
    REQUIRE(tracker.running());
    REQUIRE(tracker.wait_ready());
    asio::io_context io;
    TrackerContext ctx(io);

    // someone else is already in the swarm
    auto other = announce(io, ctx, tracker.udp_url(), peer(hash, 43001, 0));
    REQUIRE_MESSAGE(other.ok(), other.error);

    Endpoints received;
    Announcer announcer(
        ctx, {{tracker.udp_url()}, {tracker.http_url()}}, hash, make_peer_id(),
        [] { return std::uint16_t(43002); },
        [] {
            return TransferTotals{0, 0, 500};
        },
        [&](Endpoints peers) { received.insert(received.end(), peers.begin(), peers.end()); });
    announcer.start();
    REQUIRE(run_until(io, [&] { return !received.empty(); }));
    CHECK(contains_port(received, 43001));
    CHECK(announcer.status()[0].state == "working");

    announcer.scrape();
    REQUIRE(run_until(io, [&] { return announcer.status()[0].leechers >= 1; }));
    CHECK(announcer.status()[0].seeders >= 1);

    bool done = false;
    announcer.stop([&] { done = true; });
    REQUIRE(run_until(
        io, [&] { return done; }, std::chrono::seconds(5)));

    // after `stopped` the tracker no longer lists us
    auto probe = announce(io, ctx, tracker.udp_url(), peer(hash, 43003, 100));
    REQUIRE(probe.ok());
    CHECK_FALSE(contains_port(probe.response.peers, 43002));
    CHECK(contains_port(probe.response.peers, 43001));
}
