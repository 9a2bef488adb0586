#include <doctest/doctest.h>

#include <boost/asio/steady_timer.hpp>
#include <vector>

#include "test_server_fixture.hpp"

using namespace btd::rpc;
using namespace btd::rpc::test;
using nlohmann::json;

namespace {

const std::string kSecret = "s3cret-token-0123456789";
const std::string kPing = R"({"jsonrpc":"2.0","method":"ping","id":1})";

void add_test_methods(Dispatcher& d, asio::io_context& io) {
    d.add("ping", [](const json&) { return "pong"; });
    // Answers after 50 ms, from a timer, like a URL fetch would.
    d.add_async("slow_ping", [&io](const json&, Dispatcher::Completion done) {
        auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(50));
        timer->async_wait([timer, done](boost::system::error_code) { done(json("late pong")); });
    });
}

RpcServerOptions with_auth() {
    RpcServerOptions o;
    o.auth_secret = kSecret;
    return o;
}

std::string auth_header(const std::string& token = kSecret) {
    return "Authorization: Bearer " + token + "\r\n";
}

// One request on a fresh connection.
std::optional<http::response<http::string_body>> request_once(std::uint16_t port,
                                                              const std::string& raw) {
    RawClient client(port);
    REQUIRE(client.connected);
    REQUIRE(client.send(raw));
    return client.read_response();
}

bool no_cors_headers(const http::response<http::string_body>& r) {
    return r.find("Access-Control-Allow-Origin") == r.end();
}

}  // namespace

TEST_CASE("authorised request is served") {
    ServerFixture server(with_auth(), add_test_methods);
    auto r = request_once(server.port, rpc_request(server.port, kPing, auth_header()));
    REQUIRE(r);
    CHECK(r->result() == http::status::ok);
    CHECK((*r)[http::field::content_type] == "application/json");
    CHECK(json::parse(r->body())["result"] == "pong");
    CHECK(no_cors_headers(*r));
}

TEST_CASE("missing or wrong credentials get 401 with WWW-Authenticate: Bearer") {
    ServerFixture server(with_auth(), add_test_methods);
    for (const std::string& headers :
         {std::string(), auth_header("wrong"), auth_header(kSecret + "x"),
          std::string("Authorization: Basic dXNlcjpwYXNz\r\n"),
          std::string("Authorization: Bearer\r\n")}) {
        CAPTURE(headers);
        auto r = request_once(server.port, rpc_request(server.port, kPing, headers));
        REQUIRE(r);
        CHECK(r->result() == http::status::unauthorized);
        CHECK(std::string((*r)[http::field::www_authenticate]).rfind("Bearer", 0) == 0);
        CHECK(r->body().find("pong") == std::string::npos);
    }
    // Scheme is case-insensitive.
    auto ok = request_once(
        server.port, rpc_request(server.port, kPing, "Authorization: bearer " + kSecret + "\r\n"));
    REQUIRE(ok);
    CHECK(ok->result() == http::status::ok);
}

TEST_CASE("Host header must be a loopback name or an allowed extra host") {
    RpcServerOptions options = with_auth();
    options.extra_allowed_hosts = {"mybox.lan"};
    ServerFixture server(options, add_test_methods);
    auto port = std::to_string(server.port);
    for (const std::string& host :
         std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port, "localhost",
                                  "[::1]:" + port, "LOCALHOST", "mybox.lan:" + port}) {
        CAPTURE(host);
        auto r = request_once(server.port, rpc_request(server.port, kPing, auth_header(), host));
        REQUIRE(r);
        CHECK(r->result() == http::status::ok);
    }
    for (const std::string& host :
         std::vector<std::string>{"evil.example:" + port, "127.0.0.1.evil.example",
                                  "localhost.evil.example", "attacker.lan", "127.0.0.2"}) {
        CAPTURE(host);
        auto r = request_once(server.port, rpc_request(server.port, kPing, auth_header(), host));
        REQUIRE(r);
        CHECK(r->result() == http::status::forbidden);
    }
    // HTTP/1.1 without a Host header at all.
    auto r = request_once(
        server.port, "POST /rpc HTTP/1.1\r\nContent-Type: application/json\r\n" + auth_header() +
                         "Content-Length: " + std::to_string(kPing.size()) + "\r\n\r\n" + kPing);
    REQUIRE(r);
    CHECK(r->result() == http::status::forbidden);
}

TEST_CASE("cross-origin browser requests are refused, preflight too") {
    RpcServerOptions options = with_auth();
    options.allowed_origins = {"http://localhost:8080"};
    ServerFixture server(options, add_test_methods);
    auto r = request_once(
        server.port,
        rpc_request(server.port, kPing, auth_header() + "Origin: http://evil.example\r\n"));
    REQUIRE(r);
    CHECK(r->result() == http::status::forbidden);
    CHECK(no_cors_headers(*r));

    auto preflight =
        request_once(server.port,
                     "OPTIONS /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
                     "Access-Control-Request-Method: POST\r\n\r\n");
    REQUIRE(preflight);
    CHECK((preflight->result() == http::status::forbidden ||
           preflight->result() == http::status::method_not_allowed));
    CHECK(no_cors_headers(*preflight));

    auto allowed = request_once(
        server.port,
        rpc_request(server.port, kPing, auth_header() + "Origin: http://localhost:8080\r\n"));
    REQUIRE(allowed);
    CHECK(allowed->result() == http::status::ok);
    CHECK(no_cors_headers(*allowed));
}

TEST_CASE("paths and methods: 404, 405 with Allow, GET / text") {
    ServerFixture server(with_auth(), add_test_methods);
    auto get_rpc = request_once(server.port, "GET /rpc HTTP/1.1\r\nHost: localhost\r\n\r\n");
    REQUIRE(get_rpc);
    CHECK(get_rpc->result() == http::status::method_not_allowed);
    CHECK((*get_rpc)[http::field::allow] == "POST");

    auto other = request_once(
        server.port, "POST /other HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(other);
    CHECK(other->result() == http::status::not_found);

    auto root = request_once(server.port, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    REQUIRE(root);
    CHECK(root->result() == http::status::ok);
    CHECK(root->body().find("/rpc") != std::string::npos);
}

TEST_CASE("Content-Type must be application/json") {
    ServerFixture server(with_auth(), add_test_methods);
    auto request = "POST /rpc HTTP/1.1\r\nHost: localhost\r\n" + auth_header() +
                   "Content-Type: text/plain\r\nContent-Length: " + std::to_string(kPing.size()) +
                   "\r\n\r\n" + kPing;
    auto r = request_once(server.port, request);
    REQUIRE(r);
    CHECK(r->result() == http::status::unsupported_media_type);

    auto with_charset = "POST /rpc HTTP/1.1\r\nHost: localhost\r\n" + auth_header() +
                        "Content-Type: Application/JSON; charset=utf-8\r\nContent-Length: " +
                        std::to_string(kPing.size()) + "\r\n\r\n" + kPing;
    auto ok = request_once(server.port, with_charset);
    REQUIRE(ok);
    CHECK(ok->result() == http::status::ok);
}

TEST_CASE("oversized body gets 413, oversized headers 431") {
    RpcServerOptions options = with_auth();
    options.body_limit = 1024;
    ServerFixture server(options, add_test_methods);

    std::string big(2000, ' ');
    auto r = request_once(server.port, rpc_request(server.port, kPing + big, auth_header()));
    REQUIRE(r);
    CHECK(r->result() == http::status::payload_too_large);

    // Announced length alone is enough to refuse; the body is never sent.
    RawClient client(server.port);
    REQUIRE(
        client.send("POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
                    auth_header() + "Content-Length: 100000000\r\n\r\n"));
    auto announced = client.read_response();
    REQUIRE(announced);
    CHECK(announced->result() == http::status::payload_too_large);

    auto huge_header = rpc_request(server.port, kPing,
                                   auth_header() + "X-Filler: " + std::string(10000, 'a') + "\r\n");
    auto h = request_once(server.port, huge_header);
    REQUIRE(h);
    CHECK(h->result() == http::status::request_header_fields_too_large);
}

TEST_CASE("malformed HTTP gets 400 and the connection is closed") {
    ServerFixture server(with_auth(), add_test_methods);
    RawClient client(server.port);
    REQUIRE(client.send("THIS IS NOT HTTP\r\n\r\n"));
    auto r = client.read_response();
    REQUIRE(r);
    CHECK(r->result() == http::status::bad_request);
    CHECK(client.closed_by_server(2s));
}

TEST_CASE("keep-alive: two requests on one connection") {
    ServerFixture server(with_auth(), add_test_methods);
    RawClient client(server.port);
    REQUIRE(client.connected);
    for (int i = 0; i < 2; ++i) {
        REQUIRE(client.send(rpc_request(server.port, kPing, auth_header())));
        auto r = client.read_response();
        REQUIRE(r);
        CHECK(r->result() == http::status::ok);
        CHECK(r->keep_alive());
    }
    CHECK(server.connections() == 1);
}

TEST_CASE("notification-only batch: 204 and no body; async methods answer over HTTP") {
    ServerFixture server(with_auth(), add_test_methods);
    RawClient client(server.port);
    REQUIRE(client.send(
        rpc_request(server.port, R"([{"jsonrpc":"2.0","method":"ping"}])", auth_header())));
    auto r = client.read_response();
    REQUIRE(r);
    CHECK(r->result() == http::status::no_content);
    CHECK(r->body().empty());

    REQUIRE(client.send(rpc_request(
        server.port, R"({"jsonrpc":"2.0","method":"slow_ping","id":"s"})", auth_header())));
    auto slow = client.read_response();
    REQUIRE(slow);
    CHECK(json::parse(slow->body())["result"] == "late pong");
    CHECK(json::parse(slow->body())["id"] == "s");
}

TEST_CASE("deep nesting over HTTP is a parse error, not a crash") {
    ServerFixture server(with_auth(), add_test_methods);
    auto r = request_once(server.port,
                          rpc_request(server.port, std::string(100000, '['), auth_header()));
    REQUIRE(r);
    CHECK(r->result() == http::status::ok);
    CHECK(json::parse(r->body())["error"]["code"] == errc::parse_error);
}

TEST_CASE("a slow client is dropped after the timeout while others are served") {
    RpcServerOptions options = with_auth();
    options.timeout = std::chrono::milliseconds(1500);
    ServerFixture server(options, add_test_methods);

    RawClient slow(server.port);
    REQUIRE(slow.connected);
    auto slow_start = std::chrono::steady_clock::now();
    REQUIRE(slow.send("POST /rpc HTTP/1.1\r\nHost: local"));  // and then nothing more

    // Meanwhile another client is served promptly.
    auto start = std::chrono::steady_clock::now();
    auto r = request_once(server.port, rpc_request(server.port, kPing, auth_header()));
    REQUIRE(r);
    CHECK(r->result() == http::status::ok);
    CHECK(std::chrono::steady_clock::now() - start < 1000ms);

    // Trickling bytes does not extend the deadline.
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(300ms);
        slow.send("h");
    }
    CHECK(slow.closed_by_server(3s));
    // Dropped at ~1.5 s after its first byte; a deadline reset per byte would be ~2.4 s.
    CHECK(std::chrono::steady_clock::now() - slow_start < 2200ms);
}

TEST_CASE("an idle keep-alive connection is closed after the timeout") {
    RpcServerOptions options = with_auth();
    options.timeout = std::chrono::milliseconds(200);
    ServerFixture server(options, add_test_methods);
    RawClient client(server.port);
    REQUIRE(client.send(rpc_request(server.port, kPing, auth_header())));
    REQUIRE(client.read_response());
    CHECK(client.closed_by_server(2s));
}

TEST_CASE("connections beyond the limit are closed at once") {
    RpcServerOptions options = with_auth();
    options.max_connections = 2;
    ServerFixture server(options, add_test_methods);

    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 2; ++i) {
        clients.push_back(std::make_unique<RawClient>(server.port));
        REQUIRE(clients.back()->send(rpc_request(server.port, kPing, auth_header())));
        REQUIRE(clients.back()->read_response());
    }
    CHECK(server.connections() == 2);
    RawClient extra(server.port);
    CHECK(extra.closed_by_server(2s));

    // Once one closes, a new client gets in (the server notices the close asynchronously).
    clients.pop_back();
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; ++attempt) {
        RawClient again(server.port);
        served = again.send(rpc_request(server.port, kPing, auth_header())) &&
                 again.read_response(500ms).has_value();
        if (!served) std::this_thread::sleep_for(20ms);
    }
    CHECK(served);
}

TEST_CASE("stop closes open connections") {
    ServerFixture server(with_auth(), add_test_methods);
    RawClient client(server.port);
    REQUIRE(client.send(rpc_request(server.port, kPing, auth_header())));
    REQUIRE(client.read_response());
    server.on_io([&] { server.server->stop(); });
    CHECK(client.closed_by_server(2s));
    CHECK(server.connections() == 0);
}

TEST_CASE("Expect: 100-continue is answered before the body is sent") {
    ServerFixture server(with_auth(), add_test_methods);
    RawClient client(server.port);
    REQUIRE(client.send(
        "POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
        auth_header() + "Expect: 100-continue\r\nContent-Length: " + std::to_string(kPing.size()) +
        "\r\n\r\n"));
    auto interim = client.read_response(2s);
    REQUIRE(interim);
    CHECK(interim->result() == http::status::continue_);
    REQUIRE(client.send(kPing));
    auto r = client.read_response();
    REQUIRE(r);
    CHECK(r->result() == http::status::ok);
    CHECK(json::parse(r->body())["result"] == "pong");
}

TEST_CASE("without a token a request is refused on its headers; a large body is never read") {
    ServerFixture server(with_auth(), add_test_methods);
    // Announces 10 MiB and sends none of it: the answer must come from the headers alone.
    for (const std::string& extra : {std::string(), auth_header("wrong-token-0123456789"),
                                     std::string("Origin: http://evil\r\n")}) {
        CAPTURE(extra);
        RawClient client(server.port);
        REQUIRE(
            client.send("POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                        "application/json\r\n" +
                        extra + "Content-Length: 10485760\r\n\r\n"));
        auto r = client.read_response(2s);
        REQUIRE(r);
        CHECK(
            (r->result() == http::status::unauthorized || r->result() == http::status::forbidden));
        CHECK_FALSE(r->keep_alive());
        CHECK(client.closed_by_server(4s));
    }
    // A bad Host is refused before the token is even looked at.
    RawClient rebinding(server.port);
    REQUIRE(rebinding.send("POST /rpc HTTP/1.1\r\nHost: evil.example\r\n" + auth_header() +
                           "Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n"));
    auto r = rebinding.read_response(2s);
    REQUIRE(r);
    CHECK(r->result() == http::status::forbidden);
}

TEST_CASE("a refused request whose body was sent with it still reads the refusal") {
    ServerFixture server(with_auth(), add_test_methods);
    // Small body (read, then answered; the connection may stay open).
    RawClient small(server.port);
    REQUIRE(small.send(rpc_request(server.port, kPing, "")));
    auto r = small.read_response(2s);
    REQUIRE(r);
    CHECK(r->result() == http::status::unauthorized);
    REQUIRE(small.send(rpc_request(server.port, kPing, auth_header())));
    auto ok = small.read_response(2s);
    REQUIRE(ok);
    CHECK(ok->result() == http::status::ok);

    // A body over the unauthenticated limit, sent at once: the 401 still arrives (no reset).
    RawClient big(server.port);
    std::string body(200 * 1024, ' ');
    REQUIRE(
        big.send("POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 "Content-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body));
    auto refused = big.read_response(3s);
    REQUIRE(refused);
    CHECK(refused->result() == http::status::unauthorized);
}

TEST_CASE("half-sent requests cannot lock out a client with the token") {
    RpcServerOptions options = with_auth();
    options.max_connections = 4;
    ServerFixture server(options, add_test_methods);
    std::vector<std::unique_ptr<RawClient>> squatters;
    for (int i = 0; i < 8; ++i) {  // twice the limit
        squatters.push_back(std::make_unique<RawClient>(server.port));
        squatters.back()->send("POST /rpc HTTP/1.1\r\nHost: loc");
    }
    for (int round = 0; round < 3; ++round) {
        auto start = std::chrono::steady_clock::now();
        auto r = request_once(server.port, rpc_request(server.port, kPing, auth_header()));
        REQUIRE(r);
        CHECK(r->result() == http::status::ok);
        CHECK(std::chrono::steady_clock::now() - start < 2s);
        squatters.push_back(std::make_unique<RawClient>(server.port));
        squatters.back()->send("POST /rpc HTTP/1.1\r\nHost: loc");
    }
    CHECK(server.connections() <= 4);
}

TEST_CASE("authenticated connections keep their slots; the header deadline is the short one") {
    RpcServerOptions options = with_auth();
    options.max_connections = 2;
    options.header_timeout = 300ms;
    options.timeout = 10s;
    ServerFixture server(options, add_test_methods);
    RawClient slow(server.port);
    REQUIRE(slow.send("POST /rpc HTTP/1.1\r\nHost: local"));
    auto start = std::chrono::steady_clock::now();
    CHECK(slow.closed_by_server(3s));
    CHECK(std::chrono::steady_clock::now() - start < 2s);

    // An idle keep-alive connection of an authorised client is closed by the same deadline.
    RawClient idle(server.port);
    REQUIRE(idle.send(rpc_request(server.port, kPing, auth_header())));
    REQUIRE(idle.read_response());
    CHECK(idle.closed_by_server(3s));
}
