// HTTP tracker client against a scripted local server: good answers, refusals and broken servers
// all end in an outcome, never an exception or a hang.
#include <doctest/doctest.h>

#include "core/tracker/http_client.hpp"
#include "core/tracker/tracker_client.hpp"
#include "tracker_test_support.hpp"

using namespace btd;
using namespace btd::tracker;
using namespace tracker_test;

namespace {

AnnounceParams params() {
    AnnounceParams p;
    p.info_hash.fill(0x11);
    p.peer_id = make_peer_id();
    p.port = 6881;
    p.left = 100;
    p.event = Event::started;
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

const std::string kPeersBody =
    std::string("d8:intervali1800e5:peers6:") + std::string("\x7f\x00\x00\x01\x1a\xe1", 6) + "e";

}  // namespace

TEST_CASE("HTTP announce: compact peers come back and the query is complete") {
    asio::io_context io;
    TrackerContext ctx(io);
    HttpServer server(
        io, [](const std::string&) { return HttpServer::Reply{HttpServer::ok(kPeersBody)}; });
    auto result = announce(io, ctx, server.url());
    REQUIRE(result);
    CHECK(result->ok());
    REQUIRE(result->response.peers.size() == 1);
    CHECK(result->response.peers[0].port() == 6881);
    REQUIRE(server.targets().size() == 1);
    const std::string& target = server.targets()[0];
    CHECK(target.starts_with("/announce?info_hash=%11%11"));
    CHECK(target.find(
              "&port=6881&uploaded=0&downloaded=0&left=100&compact=1&event=started&numwant=200") !=
          std::string::npos);
}

TEST_CASE("HTTP announce: failure reason is reported with the tracker's text") {
    asio::io_context io;
    TrackerContext ctx(io);
    HttpServer server(io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok("d14:failure reason20:unregistered torrente")};
    });
    auto result = announce(io, ctx, server.url());
    REQUIRE(result);
    CHECK(result->error == "unregistered torrent");
}

TEST_CASE("HTTP announce: garbage, error status and oversized bodies are errors") {
    asio::io_context io;
    TrackerContext ctx(io);
    HttpServer garbage(io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok("<html>hello</html>")};
    });
    auto r1 = announce(io, ctx, garbage.url());
    REQUIRE(r1);
    CHECK(r1->error.find("not valid bencode") != std::string::npos);

    HttpServer not_found(io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok("no such page", "404 Not Found")};
    });
    auto r2 = announce(io, ctx, not_found.url());
    REQUIRE(r2);
    CHECK(r2->error == "tracker answered HTTP 404");

    HttpServer huge(io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok(std::string(3 * 1024 * 1024, 'x'))};
    });
    auto r3 = announce(io, ctx, huge.url());
    REQUIRE(r3);
    CHECK_MESSAGE(r3->error.find("larger than 2097152 bytes") != std::string::npos, r3->error);

    // no length at all, the body runs until the connection closes
    HttpServer unbounded(io, [](const std::string&) {
        return HttpServer::Reply{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" +
                                 std::string(3 * 1024 * 1024, 'z')};
    });
    auto r5 = announce(io, ctx, unbounded.url());
    REQUIRE(r5);
    CHECK_MESSAGE(r5->error.find("larger than 2097152 bytes") != std::string::npos, r5->error);

    // chunked, no Content-Length: the limit applies too
    ctx.state().settings.max_response_bytes = 1000;
    HttpServer chunked(io, [](const std::string&) {
        std::string chunk(800, 'y');
        return HttpServer::Reply{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" +
                                 chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"};
    });
    auto r4 = announce(io, ctx, chunked.url());
    REQUIRE(r4);
    CHECK(r4->error.find("larger than 1000 bytes") != std::string::npos);
}

TEST_CASE("HTTP announce: a slow tracker times out") {
    asio::io_context io;
    TrackerContext ctx(io);
    HttpServer slow(io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok(kPeersBody), 5s};
    });
    auto started = std::chrono::steady_clock::now();
    auto result = announce(io, ctx, slow.url(), std::chrono::milliseconds(300));
    REQUIRE(result);
    CHECK(result->error.find("no answer within") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("HTTP announce: connection refused and bad URLs are errors") {
    asio::io_context io;
    TrackerContext ctx(io);
    auto refused =
        announce(io, ctx, "http://127.0.0.1:" + std::to_string(free_tcp_port()) + "/announce");
    REQUIRE(refused);
    CHECK(refused->error.find("cannot connect") != std::string::npos);
    auto bad = announce(io, ctx, "not a url");
    REQUIRE(bad);
    CHECK(bad->error == "invalid tracker URL");
    auto scheme = announce(io, ctx, "wss://127.0.0.1:1/announce");
    REQUIRE(scheme);
    CHECK(scheme->error == "unsupported tracker scheme 'wss'");
}

TEST_CASE("HTTP redirects are followed up to the limit") {
    asio::io_context io;
    TrackerContext ctx(io);
    HttpServer server(io, [](const std::string& target) {
        if (target.starts_with("/announce"))
            return HttpServer::Reply{
                "HTTP/1.1 302 Found\r\nLocation: /real\r\nContent-Length: 0\r\n\r\n"};
        return HttpServer::Reply{HttpServer::ok(kPeersBody)};
    });
    auto result = announce(io, ctx, server.url());
    REQUIRE(result);
    CHECK(result->ok());
    CHECK(result->response.peers.size() == 1);
    CHECK(server.targets().size() == 2);

    HttpServer loop(io, [](const std::string&) {
        return HttpServer::Reply{
            "HTTP/1.1 301 Moved\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"};
    });
    auto looped = announce(io, ctx, loop.url());
    REQUIRE(looped);
    CHECK(looped->error == "too many redirects");
    CHECK(loop.targets().size() == 4);  // the request plus three redirects

    HttpServer ftp(io, [](const std::string&) {
        return HttpServer::Reply{
            "HTTP/1.1 302 Found\r\nLocation: ftp://x/y\r\nContent-Length: 0\r\n\r\n"};
    });
    auto to_ftp = announce(io, ctx, ftp.url());
    REQUIRE(to_ftp);
    CHECK(to_ftp->error.find("unsupported URL scheme 'ftp'") != std::string::npos);
}

TEST_CASE("HTTP scrape uses the BEP 48 URL and reads our entry") {
    asio::io_context io;
    TrackerContext ctx(io);
    Sha1Hash hash;
    hash.fill('h');
    HttpServer server(io, [](const std::string& target) {
        if (!target.starts_with("/scrape?info_hash=hhhh"))
            return HttpServer::Reply{HttpServer::ok("", "404 Not Found")};
        return HttpServer::Reply{
            HttpServer::ok("d5:filesd20:" + std::string(20, 'h') +
                           "d8:completei2e10:downloadedi5e10:incompletei3eeee")};
    });
    std::optional<ScrapeOutcome> result;
    send_scrape(ctx, server.url(), hash, std::nullopt, [&](ScrapeOutcome o) { result = o; });
    REQUIRE(run_until(io, [&] { return result.has_value(); }));
    CHECK(result->ok());
    CHECK(result->info.seeders == 2);
    CHECK(result->info.leechers == 3);
    CHECK(result->info.downloaded == 5);

    std::optional<ScrapeOutcome> unsupported;
    send_scrape(ctx, server.url("/tracker"), hash, std::nullopt,
                [&](ScrapeOutcome o) { unsupported = o; });
    REQUIRE(run_until(io, [&] { return unsupported.has_value(); }));
    CHECK(unsupported->error == "tracker does not support scrape");
}

TEST_CASE("cancel() reports 'cancelled' once, and the handler never runs inline") {
    asio::io_context io;
    TrackerContext ctx(io);
    HttpServer slow(io, [](const std::string&) {
        return HttpServer::Reply{HttpServer::ok("de"), 5s};
    });
    int calls = 0;
    std::string error;
    auto pending = send_announce(ctx, slow.url(), params(), std::nullopt, [&](AnnounceOutcome o) {
        ++calls;
        error = o.error;
    });
    pending->cancel();
    pending->cancel();
    CHECK(calls == 0);
    run_until(
        io, [&] { return calls > 0; }, 2s);
    io.restart();
    io.run_for(std::chrono::milliseconds(100));
    CHECK(calls == 1);
    CHECK(error == "cancelled");
}
