#include <doctest/doctest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rpc/transport/dispatcher.hpp"

using namespace btd::rpc;
using nlohmann::json;

namespace {

// Runs a body through the dispatcher; all test methods here answer synchronously.
struct Reply {
    bool called = false;
    std::optional<std::string> body;
};

Reply run(const Dispatcher& d, std::string_view body) {
    Reply r;
    d.handle(body, [&](std::optional<std::string> reply) {
        CHECK_FALSE(r.called);  // exactly once
        r.called = true;
        r.body = std::move(reply);
    });
    return r;
}

json run_json(const Dispatcher& d, std::string_view body) {
    auto r = run(d, body);
    REQUIRE(r.called);
    REQUIRE(r.body.has_value());
    return json::parse(*r.body);
}

int error_code(const json& response) {
    return response.at("error").at("code").get<int>();
}

Dispatcher make_dispatcher() {
    Dispatcher d;
    d.add("echo", [](const json& params) { return params; });
    d.add("add",
          [](const json& params) { return params.at("a").get<int>() + params.at("b").get<int>(); });
    d.add("needs_x", [](const json& params) -> json {
        if (!params.contains("x")) throw invalid_params("missing param 'x'");
        return true;
    });
    d.add("app_error", [](const json&) -> json {
        throw RpcError(errc::unknown_torrent, "unknown torrent", {{"ids", {"ab"}}});
    });
    d.add("crash", [](const json&) -> json { throw std::runtime_error("boom"); });
    d.add("bad_utf8", [](const json&) {
        return json(
            std::string("a\xff\xfe"
                        "b"));
    });
    return d;
}

}  // namespace

TEST_CASE("a request gets its result and its id echoed exactly") {
    auto d = make_dispatcher();
    auto r = run_json(d, R"({"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":7})");
    CHECK(r["jsonrpc"] == "2.0");
    CHECK(r["result"] == 5);
    CHECK(r["id"] == 7);
    CHECK_FALSE(r.contains("error"));

    CHECK(run_json(d, R"({"jsonrpc":"2.0","method":"echo","id":"abc"})")["id"] == "abc");
    auto null_id = run_json(d, R"({"jsonrpc":"2.0","method":"echo","id":null})");
    CHECK(null_id.contains("id"));
    CHECK(null_id["id"].is_null());
    CHECK(run_json(d, R"({"jsonrpc":"2.0","method":"echo","id":1.5})")["id"] == 1.5);
    CHECK(run_json(d, R"({"jsonrpc":"2.0","method":"echo","id":-3})")["id"] == -3);
}

TEST_CASE("absent params reach the handler as an empty object; arrays pass through") {
    auto d = make_dispatcher();
    CHECK(run_json(d, R"({"jsonrpc":"2.0","method":"echo","id":1})")["result"] == json::object());
    CHECK(run_json(d, R"({"jsonrpc":"2.0","method":"echo","params":[1,2],"id":1})")["result"] ==
          json::array({1, 2}));
}

TEST_CASE("notifications get no reply, even for unknown methods or failing handlers") {
    auto d = make_dispatcher();
    for (auto body :
         {R"({"jsonrpc":"2.0","method":"echo"})", R"({"jsonrpc":"2.0","method":"nope"})",
          R"({"jsonrpc":"2.0","method":"crash"})"}) {
        auto r = run(d, body);
        CHECK(r.called);
        CHECK_FALSE(r.body.has_value());
    }
}

TEST_CASE("an invalid request without an id is answered with -32600 and id null, not silence") {
    auto d = make_dispatcher();
    // The JSON-RPC 2.0 spec's own example, and other shapes whose id cannot be determined.
    for (auto body : {R"({"jsonrpc":"2.0","method":1,"params":"bar"})",
                      R"({"jsonrpc":"2.0","method":"echo","params":"bar"})",
                      R"({"jsonrpc":"1.0","method":"echo"})", R"({"method":"echo"})",
                      R"({"jsonrpc":"2.0"})", R"({})"}) {
        CAPTURE(body);
        auto r = run_json(d, body);
        CHECK(error_code(r) == errc::invalid_request);
        REQUIRE(r.contains("id"));
        CHECK(r["id"].is_null());
    }
    // In a batch: an error object for the invalid entry, nothing for the valid notification.
    auto batch = run_json(
        d, R"([{"jsonrpc":"2.0","method":1,"params":"bar"},{"jsonrpc":"2.0","method":"echo"}])");
    REQUIRE(batch.is_array());
    REQUIRE(batch.size() == 1);
    CHECK(error_code(batch[0]) == errc::invalid_request);
    CHECK(batch[0]["id"].is_null());
}

TEST_CASE("parse errors: -32700 with a null id") {
    auto d = make_dispatcher();
    for (auto body : {"", "{", R"({"jsonrpc":"2.0","method":"echo","id":1)", "nul", "[1,]"}) {
        auto r = run_json(d, body);
        CHECK(error_code(r) == errc::parse_error);
        CHECK(r["id"].is_null());
    }
}

TEST_CASE("invalid requests: -32600") {
    auto d = make_dispatcher();
    const char* bodies[] = {
        R"({"jsonrpc":"1.0","method":"echo","id":1})",
        R"({"method":"echo","id":1})",
        R"({"jsonrpc":2.0,"method":"echo","id":1})",
        R"({"jsonrpc":"2.0","method":5,"id":1})",
        R"({"jsonrpc":"2.0","id":1})",
        R"({"jsonrpc":"2.0","method":"echo","params":"x","id":1})",
        R"({"jsonrpc":"2.0","method":"echo","params":5,"id":1})",
        R"({"jsonrpc":"2.0","method":"echo","id":{}})",
        R"({"jsonrpc":"2.0","method":"echo","id":[1]})",
        R"({"jsonrpc":"2.0","method":"echo","id":true})",
        R"(42)",
        R"("text")",
    };
    for (auto body : bodies) {
        CAPTURE(body);
        auto r = run_json(d, body);
        CHECK(error_code(r) == errc::invalid_request);
        CHECK(r.contains("id"));
    }
    // A valid id is still echoed on an invalid request.
    CHECK(run_json(d, R"({"jsonrpc":"1.0","method":"echo","id":9})")["id"] == 9);
    // A bad id is never echoed.
    CHECK(run_json(d, R"({"jsonrpc":"2.0","method":"echo","id":{"a":1}})")["id"].is_null());
}

TEST_CASE("unknown method: -32601 naming it") {
    auto d = make_dispatcher();
    auto r = run_json(d, R"({"jsonrpc":"2.0","method":"torrent.nope","id":1})");
    CHECK(error_code(r) == errc::method_not_found);
    CHECK(r["error"]["message"].get<std::string>().find("torrent.nope") != std::string::npos);
}

TEST_CASE("invalid params: thrown explicitly or from a json type error") {
    auto d = make_dispatcher();
    CHECK(error_code(run_json(d, R"({"jsonrpc":"2.0","method":"needs_x","id":1})")) ==
          errc::invalid_params);
    CHECK(error_code(run_json(
              d, R"({"jsonrpc":"2.0","method":"add","params":{"a":"two","b":3},"id":1})")) ==
          errc::invalid_params);
    CHECK(error_code(run_json(d, R"({"jsonrpc":"2.0","method":"add","params":{"a":1},"id":1})")) ==
          errc::invalid_params);
    CHECK(
        run_json(d, R"({"jsonrpc":"2.0","method":"needs_x","params":{"x":0},"id":1})")["result"] ==
        true);
}

TEST_CASE("internal and application errors") {
    auto d = make_dispatcher();
    auto crash = run_json(d, R"({"jsonrpc":"2.0","method":"crash","id":1})");
    CHECK(error_code(crash) == errc::internal_error);
    CHECK(crash["error"]["message"].get<std::string>().find("boom") != std::string::npos);

    auto app = run_json(d, R"({"jsonrpc":"2.0","method":"app_error","id":"q"})");
    CHECK(error_code(app) == errc::unknown_torrent);
    CHECK(app["error"]["message"] == "unknown torrent");
    CHECK(app["error"]["data"]["ids"][0] == "ab");
    CHECK(app["id"] == "q");
    CHECK_FALSE(app.contains("result"));
}

TEST_CASE("invalid UTF-8 in a result is replaced, not thrown") {
    auto d = make_dispatcher();
    auto r = run_json(d, R"({"jsonrpc":"2.0","method":"bad_utf8","id":1})");
    CHECK(r["result"] ==
          "a\xEF\xBF\xBD\xEF\xBF\xBD"
          "b");
}

TEST_CASE("empty batch: one -32600 error object, not an array") {
    auto d = make_dispatcher();
    auto r = run_json(d, "[]");
    REQUIRE(r.is_object());
    CHECK(error_code(r) == errc::invalid_request);
    CHECK(r["id"].is_null());
    CHECK(error_code(run_json(d, " [ ] ")) == errc::invalid_request);
}

TEST_CASE("batch mixing requests, notifications and invalid entries") {
    auto d = make_dispatcher();
    auto r = run_json(d, R"([
        {"jsonrpc":"2.0","method":"add","params":{"a":1,"b":1},"id":"first"},
        {"jsonrpc":"2.0","method":"echo","params":{"n":1}},
        1,
        {"jsonrpc":"2.0","method":"nope","id":3},
        {"jsonrpc":"2.0","method":"crash"},
        {"jsonrpc":"2.0","method":"echo","params":[4],"id":4}
    ])");
    REQUIRE(r.is_array());
    REQUIRE(r.size() == 4);
    CHECK(r[0]["id"] == "first");
    CHECK(r[0]["result"] == 2);
    CHECK(error_code(r[1]) == errc::invalid_request);
    CHECK(r[1]["id"].is_null());
    CHECK(error_code(r[2]) == errc::method_not_found);
    CHECK(r[2]["id"] == 3);
    CHECK(r[3]["result"] == json::array({4}));
}

TEST_CASE("batch of invalid values gets one error each") {
    auto d = make_dispatcher();
    auto r = run_json(d, "[1,2,3]");
    REQUIRE(r.size() == 3);
    for (const auto& e : r) CHECK(error_code(e) == errc::invalid_request);
}

TEST_CASE("batch of only notifications: no reply body") {
    auto d = make_dispatcher();
    auto r = run(d, R"([{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"nope"}])");
    CHECK(r.called);
    CHECK_FALSE(r.body.has_value());
}

TEST_CASE("batch size is limited") {
    Dispatcher d(DispatcherLimits{.max_depth = 64, .max_batch = 3});
    d.add("echo", [](const json& p) { return p; });
    std::string batch = "[";
    for (int i = 0; i < 4; ++i)
        batch += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","method":"echo","id":1})";
    batch += "]";
    auto r = run_json(d, batch);
    REQUIRE(r.is_object());
    CHECK(error_code(r) == errc::invalid_request);
}

TEST_CASE("deep nesting is refused before parsing, without crashing") {
    auto d = make_dispatcher();
    CHECK(error_code(run_json(d, std::string(100000, '['))) == errc::parse_error);
    std::string balanced = std::string(100000, '[') + std::string(100000, ']');
    CHECK(error_code(run_json(d, balanced)) == errc::parse_error);
    std::string deep_object;
    for (int i = 0; i < 100000; ++i) deep_object += R"({"a":)";
    CHECK(error_code(run_json(d, deep_object)) == errc::parse_error);

    // Nesting inside params below the limit is fine.
    std::string params = std::string(50, '[') + std::string(50, ']');
    auto ok = run_json(d, R"({"jsonrpc":"2.0","method":"echo","params":)" + params + R"(,"id":1})");
    CHECK(ok.contains("result"));
    // Brackets inside strings do not count as nesting.
    auto text = run_json(d, R"({"jsonrpc":"2.0","method":"echo","params":{"s":")" +
                                std::string(1000, '[') + R"(\"["},"id":1})");
    CHECK(text["result"]["s"].get<std::string>().size() == 1002);
}

TEST_CASE("nesting depth scan") {
    CHECK(json_nesting_depth("{}", 64) == 1);
    CHECK(json_nesting_depth(R"({"a":[1,{"b":[]}]})", 64) == 4);
    CHECK(json_nesting_depth(R"("[[[[")", 64) == 0);
    CHECK(json_nesting_depth(R"(["\"[[["])", 64) == 1);
    CHECK(json_nesting_depth(std::string(10, '['), 5) == 6);
    CHECK_FALSE(parse_json_limited(std::string(65, '[') + std::string(65, ']'), 64));
    CHECK(parse_json_limited(std::string(64, '[') + std::string(64, ']'), 64));
}

TEST_CASE("async methods reply when they complete; batches wait for all of them") {
    Dispatcher d;
    std::vector<Dispatcher::Completion> pending;
    d.add_async("later", [&](const json& params, Dispatcher::Completion done) {
        pending.push_back(std::move(done));
    });
    d.add("now", [](const json&) { return 1; });

    auto single = run(d, R"({"jsonrpc":"2.0","method":"later","id":1})");
    CHECK_FALSE(single.called);
    std::optional<std::string> late;
    d.handle(
        R"([{"jsonrpc":"2.0","method":"later","id":"a"},{"jsonrpc":"2.0","method":"now","id":"b"}])",
        [&](std::optional<std::string> reply) { late = reply; });
    REQUIRE(pending.size() == 2);
    CHECK_FALSE(late.has_value());
    pending[1](json("done"));
    REQUIRE(late.has_value());
    auto batch = json::parse(*late);
    REQUIRE(batch.size() == 2);
    CHECK(batch[0]["result"] == "done");
    CHECK(batch[1]["result"] == 1);

    // Errors through the completion, and a second call is ignored.
    std::optional<std::string> first;
    int calls = 0;
    d.handle(R"({"jsonrpc":"2.0","method":"later","id":5})", [&](std::optional<std::string> r) {
        ++calls;
        first = r;
    });
    REQUIRE(pending.size() == 3);
    pending[2](RpcError(errc::fetch_failed, "cannot download"));
    pending[2](json(1));
    CHECK(calls == 1);
    auto err = json::parse(*first);
    CHECK(error_code(err) == errc::fetch_failed);
    CHECK(err["id"] == 5);
}

TEST_CASE("an async handler that throws before completing still replies once") {
    Dispatcher d;
    d.add_async("throws", [](const json&, Dispatcher::Completion) { throw invalid_params("bad"); });
    auto r = run_json(d, R"({"jsonrpc":"2.0","method":"throws","id":1})");
    CHECK(error_code(r) == errc::invalid_params);
}
