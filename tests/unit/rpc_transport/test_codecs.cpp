#include <doctest/doctest.h>

#include "rpc/transport/base64.hpp"
#include "rpc/transport/errors.hpp"
#include "rpc/transport/params.hpp"
#include "rpc/transport/url.hpp"

using namespace btd::rpc;
using nlohmann::json;

TEST_CASE("base64 round trip and RFC 4648 vectors") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    std::string binary;
    for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
    CHECK(base64_decode(base64_encode(binary)) == binary);
    CHECK(base64_decode("Zm9vYg==") == "foob");
    CHECK(base64_decode("Zm9vYg") == "foob");
    CHECK(base64_decode("Zm9v\nYmFy\r\n") == "foobar");
}

TEST_CASE("base64 rejects garbage") {
    CHECK_FALSE(base64_decode("Zm9v!"));
    CHECK_FALSE(base64_decode("Z"));
    CHECK_FALSE(base64_decode("Zg==Zg=="));
    CHECK_FALSE(base64_decode("Zg==="));
    CHECK_FALSE(base64_decode("Zm9=v"));
    CHECK_FALSE(base64_decode("Zm9v_-"));
}

TEST_CASE("http URL parsing") {
    auto u = parse_http_url("http://127.0.0.1:9092/rpc");
    REQUIRE(u);
    CHECK(u->scheme == "http");
    CHECK(u->host == "127.0.0.1");
    CHECK(u->port == 9092);
    CHECK(u->target == "/rpc");
    CHECK(u->host_header() == "127.0.0.1:9092");

    auto s = parse_http_url("HTTPS://example.org/a.torrent?x=1#frag");
    REQUIRE(s);
    CHECK(s->scheme == "https");
    CHECK(s->port == 443);
    CHECK(s->target == "/a.torrent?x=1");
    CHECK(s->host_header() == "example.org");

    auto v6 = parse_http_url("http://[::1]:8080");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->target == "/");
    CHECK(v6->host_header() == "[::1]:8080");

    CHECK(parse_http_url("http://h?q")->target == "/?q");
    CHECK_FALSE(parse_http_url("ftp://example.org/"));
    CHECK_FALSE(parse_http_url("magnet:?xt=urn:btih:abc"));
    CHECK_FALSE(parse_http_url("http://"));
    CHECK_FALSE(parse_http_url("http://user:pw@host/"));
    CHECK_FALSE(parse_http_url("http://host:0/"));
    CHECK_FALSE(parse_http_url("http://host:70000/"));
    CHECK_FALSE(parse_http_url("http://host:12ab/"));
    CHECK_FALSE(parse_http_url("http://[::1/"));
}

TEST_CASE("param helpers give actionable invalid-params errors") {
    json p = {{"s", "text"}, {"b", true}, {"n", 5}, {"neg", -1}, {"f", 1.5}, {"nul", nullptr}};
    CHECK(optional_string(p, "s") == "text");
    CHECK_FALSE(optional_string(p, "missing"));
    CHECK_FALSE(optional_string(p, "nul"));
    CHECK_THROWS_AS(optional_string(p, "n"), RpcError);
    CHECK(optional_bool(p, "b") == true);
    CHECK_THROWS_AS(optional_bool(p, "s"), RpcError);
    CHECK(optional_int(p, "n", 0, 10) == 5);
    CHECK_THROWS_AS(optional_int(p, "neg", 0, 10), RpcError);
    CHECK_THROWS_AS(optional_int(p, "f", 0, 10), RpcError);
    CHECK_THROWS_AS(optional_int(p, "n", 0, 4), RpcError);
    CHECK(optional_number(p, "f", 0) == 1.5);
    CHECK_THROWS_AS(optional_number(p, "neg", 0), RpcError);
    CHECK_THROWS_AS(required_string(p, "missing"), RpcError);
    CHECK_THROWS_AS(require_object(json::array()), RpcError);
    CHECK_NOTHROW(reject_unknown(p, {"s", "b", "n", "neg", "f", "nul"}));
    try {
        reject_unknown(p, {"s"});
        FAIL("expected an error");
    } catch (const RpcError& e) {
        CHECK(e.code() == errc::invalid_params);
        CHECK(std::string(e.what()).find("expected: s") != std::string::npos);
    }
}
