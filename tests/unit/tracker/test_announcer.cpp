// Announcer behaviour with scripted local trackers: tier fallback, events, tracker id echo,
// stop() deadlines and destruction with requests in flight.
#include <doctest/doctest.h>

#include "core/tracker/announcer.hpp"
#include "core/tracker/tracker_context.hpp"
#include "tracker_test_support.hpp"

using namespace btd;
using namespace btd::tracker;
using namespace tracker_test;

namespace {

std::string peers_body(std::uint16_t port, const std::string& extra = "") {
    std::string peer = std::string("\x7f\x00\x00\x01", 4) + static_cast<char>(port >> 8) +
                       static_cast<char>(port & 0xff);
    return "d8:intervali1800e5:peers6:" + peer + extra + "e";
}

bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

const TrackerStatus* find_status(const std::vector<TrackerStatus>& all, const std::string& url) {
    for (const auto& s : all)
        if (s.url == url) return &s;
    return nullptr;
}

struct Fixture {
    asio::io_context io;
    TrackerContext ctx{io};
    Sha1Hash hash{};
    PeerId peer_id = make_peer_id();
    std::vector<boost::asio::ip::tcp::endpoint> peers;
    int peer_batches = 0;
    std::uint16_t port = 6881;  // read by the Announcer at every announce

    std::unique_ptr<Announcer> make(std::vector<std::vector<std::string>> tiers) {
        hash.fill(0x33);
        return std::make_unique<Announcer>(
            ctx, std::move(tiers), hash, peer_id, [this] { return port; },
            [] {
                return TransferTotals{10, 20, 30};
            },
            [this](std::vector<boost::asio::ip::tcp::endpoint> p) {
                ++peer_batches;
                peers.insert(peers.end(), p.begin(), p.end());
            });
    }
};

}  // namespace

TEST_CASE("announcer falls back to the next tier and reports the dead tracker") {
    Fixture f;
    HttpServer good(f.io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok(peers_body(7001))};
    });
    std::string dead = "http://127.0.0.1:" + std::to_string(free_tcp_port()) + "/announce";
    auto announcer = f.make({{dead}, {good.url()}});
    announcer->start();
    REQUIRE(run_until(f.io, [&] { return f.peer_batches == 1; }));
    REQUIRE(f.peers.size() == 1);
    CHECK(f.peers[0].port() == 7001);

    auto status = announcer->status();
    REQUIRE(status.size() == 2);
    const TrackerStatus* dead_status = find_status(status, dead);
    const TrackerStatus* good_status = find_status(status, good.url());
    REQUIRE(dead_status);
    REQUIRE(good_status);
    CHECK(dead_status->state == "error");
    CHECK(has(dead_status->message, "cannot connect"));
    CHECK(dead_status->tier == 0);
    CHECK(good_status->state == "working");
    CHECK(good_status->tier == 1);
    CHECK(good_status->peers_received == 1);
    CHECK(good_status->next_announce_in_s > 1700);
    CHECK(good_status->next_announce_in_s <= 1800);

    REQUIRE(good.targets().size() == 1);
    const std::string& first = good.targets()[0];
    CHECK(
        has(first, "&uploaded=10&downloaded=20&left=30&compact=1&event=started&numwant=200&key="));

    bool done = false;
    announcer->stop([&] { done = true; });
    REQUIRE(run_until(
        f.io, [&] { return done; }, 5s));
    REQUIRE(good.targets().size() == 2);
    CHECK(has(good.targets()[1], "&event=stopped&numwant=0&key="));
    // the key stays the same for the announcer's lifetime
    auto key_of = [](const std::string& t) { return t.substr(t.find("&key="), 13); };
    CHECK(key_of(good.targets()[0]) == key_of(good.targets()[1]));
}

TEST_CASE("announcer: tracker id is echoed and completed is sent at once") {
    Fixture f;
    HttpServer server(f.io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok(peers_body(7002, "10:tracker id3:T-1"))};
    });
    auto announcer = f.make({{server.url()}});
    announcer->start();
    REQUIRE(run_until(f.io, [&] { return f.peer_batches == 1; }));
    announcer->completed();
    REQUIRE(run_until(f.io, [&] { return server.targets().size() == 2 && f.peer_batches == 2; }));
    CHECK(has(server.targets()[1], "&event=completed&"));
    CHECK(server.targets()[1].ends_with("&trackerid=T-1"));
    CHECK_FALSE(has(server.targets()[0], "trackerid"));

    // reannounce_now respects the min interval: no new request right away
    announcer->reannounce_now();
    run_until(
        f.io, [] { return false; }, std::chrono::milliseconds(300));
    CHECK(server.targets().size() == 2);
}

TEST_CASE("announcer: a port changed at run time goes out with the next announce") {
    Fixture f;
    HttpServer server(f.io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok(peers_body(7004))};
    });
    auto announcer = f.make({{server.url()}});
    announcer->start();
    REQUIRE(run_until(f.io, [&] { return f.peer_batches == 1; }));
    f.port = 51413;
    announcer->completed();
    REQUIRE(run_until(f.io, [&] { return server.targets().size() == 2 && f.peer_batches == 2; }));
    CHECK(has(server.targets()[0], "&port=6881&"));
    CHECK(has(server.targets()[1], "&port=51413&"));
    f.port = 6882;
    bool done = false;
    announcer->stop([&] { done = true; });
    REQUIRE(run_until(
        f.io, [&] { return done; }, 5s));
    REQUIRE(server.targets().size() == 3);
    CHECK(has(server.targets()[2], "&port=6882&"));
    CHECK(has(server.targets()[2], "&event=stopped&"));
}

TEST_CASE("announcer: failure reason shows in status and is not fatal") {
    Fixture f;
    HttpServer refusing(f.io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok("d14:failure reason6:bannede")};
    });
    auto announcer = f.make({{refusing.url()}});
    announcer->start();
    REQUIRE(run_until(f.io, [&] { return announcer->status()[0].state == "error"; }));
    CHECK(announcer->status()[0].message == "banned");
    CHECK(f.peer_batches == 0);
    CHECK(announcer->status()[0].next_announce_in_s == -1);
    // the retry after a failed round is a minute away; asking for peers tries again now
    announcer->reannounce_now();
    REQUIRE(run_until(f.io, [&] { return refusing.targets().size() == 2; }));
    CHECK(has(refusing.targets()[1], "&event=started&"));
    bool done = false;
    announcer->stop([&] { done = true; });  // never started with this tracker: nothing to send
    REQUIRE(run_until(
        f.io, [&] { return done; }, 1s));
    CHECK(refusing.targets().size() == 2);
}

TEST_CASE("announcer: stop() finishes within the stop timeout when the tracker hangs") {
    Fixture f;
    int requests = 0;
    HttpServer server(f.io, [&](const std::string&) {
        ++requests;
        if (requests == 1) return HttpServer::Reply{HttpServer::ok(peers_body(7003))};
        return HttpServer::Reply{HttpServer::ok(peers_body(7003)), std::chrono::seconds(30)};
    });
    auto announcer = f.make({{server.url()}});
    announcer->start();
    REQUIRE(run_until(f.io, [&] { return f.peer_batches == 1; }));
    bool done = false;
    auto started = std::chrono::steady_clock::now();
    announcer->stop([&] { done = true; });
    announcer.reset();  // the stop must go on without the Announcer object
    REQUIRE(run_until(
        f.io, [&] { return done; }, std::chrono::seconds(6)));
    auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(elapsed < std::chrono::milliseconds(4000));
    CHECK(elapsed >= std::chrono::milliseconds(2500));
    CHECK(requests == 2);
}

TEST_CASE("announcer without trackers: start is harmless and stop calls done") {
    Fixture f;
    auto announcer = f.make({});
    announcer->start();
    CHECK(announcer->status().empty());
    bool done = false;
    announcer->stop([&] { done = true; });
    CHECK_FALSE(done);  // never inline
    REQUIRE(run_until(
        f.io, [&] { return done; }, 1s));
}

TEST_CASE("announcer destroyed with a request in flight: the late answer is ignored") {
    Fixture f;
    HttpServer slow(f.io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok(peers_body(7004)), std::chrono::milliseconds(200)};
    });
    UdpServer silent(f.io, [](const std::string&) { return std::vector<std::string>{}; });
    auto announcer = f.make({{slow.url()}, {silent.url()}});
    announcer->start();
    announcer->scrape();
    run_until(f.io, [&] { return !slow.targets().empty(); });
    announcer.reset();
    run_until(
        f.io, [] { return false; }, std::chrono::milliseconds(500));
    CHECK(f.peer_batches == 0);
}

TEST_CASE("announcer: unsupported and malformed URLs are skipped with an error") {
    Fixture f;
    HttpServer good(f.io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok(peers_body(7005))};
    });
    auto announcer = f.make({{"wss://example.org/announce"}, {"udp://no-port"}, {good.url()}});
    announcer->start();
    REQUIRE(run_until(f.io, [&] { return f.peer_batches == 1; }));
    auto status = announcer->status();
    CHECK(find_status(status, "wss://example.org/announce")->message ==
          "unsupported tracker scheme 'wss'");
    CHECK(find_status(status, "udp://no-port")->message == "invalid tracker URL");
    CHECK(find_status(status, good.url())->state == "working");
}
