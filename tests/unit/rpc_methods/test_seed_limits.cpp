// session.set / session.get of the session-wide seeding limits (ratio_limit, seed_idle_limit)
// against a real Session: values reach the engine and the daemon's save hook; bad values are
// refused with -32602 and change nothing.
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "tests/unit/rpc_methods/rpc_harness.hpp"

using namespace btd;
using namespace btd::rpc;
using nlohmann::json;
using namespace btd::rpc::testing;
namespace fs = std::filesystem;

TEST_CASE("session.get shows the seeding limits; 0 = none by default") {
    Harness h;
    auto s = h.result("session.get");
    REQUIRE(s.contains("ratio_limit"));
    REQUIRE(s.contains("seed_idle_limit"));
    CHECK(s["ratio_limit"] == 0);
    CHECK(s["seed_idle_limit"] == 0);
    CHECK(s["seed_idle_limit"].is_number_integer());
}

TEST_CASE("session.set ratio_limit and seed_idle_limit reach the engine and the save hook") {
    Harness h;
    auto updated = h.result("session.set", {{"ratio_limit", 1.5}, {"seed_idle_limit", 90}});
    CHECK(updated["ratio_limit"] == 1.5);
    CHECK(updated["seed_idle_limit"] == 90);
    auto got = h.result("session.get");
    CHECK(got["ratio_limit"] == 1.5);
    CHECK(got["seed_idle_limit"] == 90);
    CHECK(h.session->settings().ratio_limit == 1.5);
    CHECK(h.session->settings().seed_idle_limit == 90);
    REQUIRE(h.saved_settings.size() == 1);
    CHECK(h.saved_settings[0].ratio_limit == 1.5);
    CHECK(h.saved_settings[0].seed_idle_limit == 90);

    // One at a time leaves the other alone; an integer ratio is fine; 0 turns a limit off.
    h.result("session.set", {{"ratio_limit", 2}});
    got = h.result("session.get");
    CHECK(got["ratio_limit"] == 2.0);
    CHECK(got["seed_idle_limit"] == 90);
    h.result("session.set", {{"seed_idle_limit", 0}});
    got = h.result("session.get");
    CHECK(got["ratio_limit"] == 2.0);
    CHECK(got["seed_idle_limit"] == 0);
    h.result("session.set", {{"ratio_limit", 0}});
    CHECK(h.result("session.get")["ratio_limit"] == 0);
    CHECK(h.saved_settings.size() == 4);
    // Other settings do not touch the limits.
    h.result("session.set", {{"ratio_limit", 0.5}, {"seed_idle_limit", 7}});
    h.result("session.set", {{"upload_rate_limit", 1000}});
    got = h.result("session.get");
    CHECK(got["ratio_limit"] == 0.5);
    CHECK(got["seed_idle_limit"] == 7);
}

TEST_CASE("session.set refuses bad seeding limits with -32602 and changes nothing") {
    Harness h;
    h.result("session.set", {{"ratio_limit", 3.0}, {"seed_idle_limit", 60}});
    h.saved_settings.clear();
    const json bad[] = {
        {{"ratio_limit", -0.5}},
        {{"ratio_limit", "2"}},
        {{"ratio_limit", true}},
        {{"ratio_limit", json::array({1})}},
        {{"seed_idle_limit", -1}},
        {{"seed_idle_limit", 1.5}},
        {{"seed_idle_limit", "30m"}},
        {{"seed_idle_limit", 315360001}},                   // over ten years
        {{"seed_idle_limit", 60}, {"ratio_limit", -1}},     // a good one with a bad one
        {{"ratio_limit", 1.0}, {"seed_idle_limit", -60}},   // and the other way round
        {{"ratio_limit", 1.0}, {"seed_idle_limmit", 60}}};  // a typo
    for (const auto& params : bad) {
        auto r = h.call("session.set", params);
        CAPTURE(r.dump());
        REQUIRE(r.contains("error"));
        CHECK(r["error"]["code"] == errc::invalid_params);
    }
    auto idle_msg = h.call("session.set", {{"seed_idle_limit", -1}})["error"]["message"];
    CHECK(idle_msg == "seed_idle_limit must be an integer from 0 to 315360000");
    auto ratio_msg = h.call("session.set", {{"ratio_limit", "x"}})["error"]["message"];
    CHECK(ratio_msg.get<std::string>().rfind("ratio_limit must be a number >= 0", 0) == 0);
    auto got = h.result("session.get");
    CHECK(got["ratio_limit"] == 3.0);
    CHECK(got["seed_idle_limit"] == 60);
    CHECK(h.saved_settings.empty());
}
