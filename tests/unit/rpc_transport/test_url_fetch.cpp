#include <doctest/doctest.h>

#include <future>

#include "rpc/transport/url_fetch.hpp"
#include "test_server_fixture.hpp"

using namespace btd::rpc;
using namespace btd::rpc::test;

namespace {

struct FetchResult {
    std::string error;
    std::string body;
};

// Runs fetch_url on the fixture's io thread and waits (bounded) for the callback.
FetchResult fetch(ServerFixture& server, const std::string& url, FetchOptions options = {}) {
    auto tls = make_client_tls_context();
    std::promise<FetchResult> promise;
    auto future = promise.get_future();
    asio::post(server.io, [&] {
        fetch_url(server.io, *tls, url, options, [&promise](std::string error, std::string body) {
            promise.set_value({std::move(error), std::move(body)});
        });
    });
    REQUIRE(future.wait_for(10s) == std::future_status::ready);
    return future.get();
}

}  // namespace

TEST_CASE("fetches a small file over http") {
    ServerFixture server(RpcServerOptions{});
    auto base = "http://127.0.0.1:" + std::to_string(server.port);
    auto ok = fetch(server, base + "/");
    CHECK(ok.error.empty());
    CHECK(ok.body.find("POST /rpc") != std::string::npos);

    auto missing = fetch(server, base + "/missing.torrent");
    CHECK(missing.error.find("404") != std::string::npos);

    FetchOptions tiny;
    tiny.max_bytes = 5;
    auto too_big = fetch(server, base + "/", tiny);
    CAPTURE(too_big.error);
    CAPTURE(too_big.body);
    CHECK(too_big.error.find("larger than 5 bytes") != std::string::npos);
}

TEST_CASE("fetch failures are reported, not thrown") {
    ServerFixture server(RpcServerOptions{});
    // A port nobody listens on: bind then close to find one.
    std::uint16_t closed_port;
    {
        asio::io_context io;
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        closed_port = a.local_endpoint().port();
    }
    auto refused = fetch(server, "http://127.0.0.1:" + std::to_string(closed_port) + "/x");
    CHECK(refused.error.find("cannot connect") != std::string::npos);
    CHECK(fetch(server, "ftp://127.0.0.1/x").error.find("not an http") != std::string::npos);

    // https against a plain-http server fails the handshake.
    auto tls = fetch(server, "https://127.0.0.1:" + std::to_string(server.port) + "/");
    CHECK_FALSE(tls.error.empty());
}

TEST_CASE("a server that never answers hits the timeout") {
    asio::io_context listen_io;
    tcp::acceptor silent(listen_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ServerFixture server(RpcServerOptions{});
    FetchOptions quick;
    quick.timeout = 200ms;
    auto r = fetch(
        server, "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/", quick);
    CHECK(r.error.find("timed out") != std::string::npos);
}
