// torrent.list: the full output is what it always was, `fields` selects members (and rejects
// unknown ones), `since` returns only what changed, and the JSON text writer matches dump_json.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>

#include "rpc/methods/json_status.hpp"
#include "rpc/methods/json_writer.hpp"
#include "rpc/transport/errors.hpp"
#include "tests/unit/rpc_methods/rpc_harness.hpp"

using namespace btd;
using namespace btd::rpc;
using namespace btd::rpc::testing;
using nlohmann::json;

namespace {

const fs::path kMultiTorrent = fs::path(BTD_TEST_DATA_DIR) / "lt_multi_v1.torrent";

json add_multi(Harness& h) {
    return h.result("torrent.add",
                    {{"metainfo", base64_encode(read_file(kMultiTorrent))}, {"paused", true}});
}

// The reply's exact text, as a client reads it.
std::string reply_text(Harness& h, const json& params) {
    json request = {{"jsonrpc", "2.0"}, {"method", "torrent.list"}, {"params", params}, {"id", 7}};
    std::optional<std::string> reply;
    h.dispatcher.handle(request.dump(), [&](std::optional<std::string> r) { reply = r; });
    for (int i = 0; i < 200 && !reply; ++i) h.io.run_for(std::chrono::milliseconds(25));
    REQUIRE(reply.has_value());
    return *reply;
}

std::set<std::string> ids_of(const json& torrents) {
    std::set<std::string> out;
    for (const auto& t : torrents) out.insert(t["id"].get<std::string>());
    return out;
}

// A token after which nothing moves any more (the paused torrents' checks are over).
std::string settled_token(Harness& h, std::string token) {
    for (int i = 0; i < 100; ++i) {
        auto r = h.result("torrent.list", {{"since", token}});
        if (r["torrents"].empty() && r["complete"] == false) return token;
        token = r["token"].get<std::string>();
        h.io.run_for(std::chrono::milliseconds(50));
    }
    FAIL("the torrents' status kept changing");
    return token;
}

}  // namespace

TEST_CASE("torrent.list without fields gives the very text the JSON tree gave") {
    Harness h;
    h.add_single(true);
    add_multi(h);
    json expected = json::array();
    for (const auto& status : h.session->list()) expected.push_back(to_json(status));
    REQUIRE(expected.size() == 2);
    CHECK(reply_text(h, json::object()) == dump_json(make_response(7, expected)));
}

TEST_CASE("torrent.list fields: only the asked members (and id), unknown names refused") {
    Harness h;
    h.add_single(true);
    auto list = h.result("torrent.list", {{"fields", {"name", "state", "progress"}}});
    REQUIRE(list.size() == 1);
    CHECK(list[0].size() == 4);
    CHECK(list[0]["id"] == kSingleId);
    CHECK(list[0]["state"] == "paused");
    CHECK(list[0]["name"] == to_json(h.session->list()[0])["name"]);

    auto empty = h.result("torrent.list", {{"fields", json::array()}});
    CHECK(empty[0] == json{{"id", kSingleId}});

    auto reply = h.call("torrent.list", {{"fields", {"name", "colour"}}});
    REQUIRE(reply.contains("error"));
    CHECK(reply["error"]["code"] == errc::invalid_params);
    auto message = reply["error"]["message"].get<std::string>();
    for (const auto& known : summary_fields()) CHECK(message.find(known) != std::string::npos);
    CHECK(h.error("torrent.list", {{"fields", "name"}}) == errc::invalid_params);
}

TEST_CASE("torrent.list since: only what changed, what was removed, and a new token") {
    Harness h;
    auto single = h.add_single(true);
    auto multi = add_multi(h);
    auto first = h.result("torrent.list", {{"since", ""}, {"fields", {"state"}}});
    CHECK(first["complete"] == true);
    CHECK(ids_of(first["torrents"]) ==
          std::set<std::string>{single["id"].get<std::string>(), multi["id"].get<std::string>()});
    auto token = settled_token(h, first["token"].get<std::string>());

    auto idle = h.result("torrent.list", {{"since", token}});
    CHECK(idle["complete"] == false);
    CHECK(idle["torrents"].empty());
    CHECK(idle["removed"].empty());
    CHECK(idle["token"] == token);

    h.result("torrent.resume", {{"ids", {single["id"]}}});
    auto resumed = h.result("torrent.list", {{"since", token}, {"fields", {"state"}}});
    REQUIRE(resumed["torrents"].size() == 1);
    CHECK(resumed["torrents"][0]["id"] == single["id"]);
    CHECK(resumed["torrents"][0]["state"] != "paused");
    CHECK(resumed["token"] != token);

    h.result("torrent.pause", {{"ids", {single["id"]}}});
    auto mid = h.result("torrent.list", {{"since", resumed["token"]}})["token"];
    h.result("torrent.remove", {{"ids", {multi["id"]}}});
    auto removed = h.result("torrent.list", {{"since", mid}});
    CHECK(removed["removed"] == json::array({multi["id"]}));
    CHECK(ids_of(removed["torrents"]).count(multi["id"].get<std::string>()) == 0);
    // From the first token, the resume/pause and the removal are all reported.
    auto since_first = h.result("torrent.list", {{"since", token}});
    CHECK(since_first["removed"] == json::array({multi["id"]}));
    CHECK(ids_of(since_first["torrents"]) ==
          std::set<std::string>{single["id"].get<std::string>()});
}

TEST_CASE("torrent.list since: a token it cannot answer gives the complete list") {
    Harness h;
    h.add_single(true);
    auto stale = h.result("torrent.list", {{"since", "1"}});  // e.g. from an earlier run
    CHECK(stale["complete"] == true);
    CHECK(stale["torrents"].size() == 1);
    auto future = h.result("torrent.list", {{"since", "18446744073709551615"}});
    CHECK(future["complete"] == true);
    CHECK(h.error("torrent.list", {{"since", "12x"}}) == errc::invalid_params);
    CHECK(h.error("torrent.list", {{"since", 5}}) == errc::invalid_params);
}

TEST_CASE("the JSON text writer matches dump_json") {
    for (std::string s : {std::string("plain"), std::string("quote \" back \\ slash /"),
                          std::string("ctl \b\f\n\r\t \x01\x1f \x7f"),
                          std::string("utf-8 \xc3\xa9 \xf0\x9f\x98\x80"),
                          std::string("bad \xff \xc3 \xed\xa0\x80 end"), std::string("\xe2\x82"),
                          std::string("cut \xe2\x82x \xf0\x9f\x98 \xf4\x90\x80\x80 \xc0\xaf")}) {
        std::string out;
        append_json_string(out, s);
        CAPTURE(s);
        CHECK(out == dump_json(json(s)));
    }
    for (double d : {0.0, 1.0, 0.5, 1.0 / 3.0, 1e-5, 0.1 + 0.2, 123456.789, 1e20, 2.5e-300,
                     std::numeric_limits<double>::infinity(), std::nan("")}) {
        std::string out;
        append_json_number(out, d);
        CAPTURE(d);
        CHECK(out == dump_json(json(d)));
    }
    for (std::int64_t n :
         {std::int64_t(0), std::int64_t(-1), std::numeric_limits<std::int64_t>::max(),
          std::numeric_limits<std::int64_t>::min()}) {
        std::string out;
        append_json_number(out, n);
        CHECK(out == dump_json(json(n)));
    }
}
