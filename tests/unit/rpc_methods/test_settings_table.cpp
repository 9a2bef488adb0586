// session.get/session.set over a real Session, with names and ranges from the daemon's settings
// table (daemon/settings_table.hpp).
#include <doctest/doctest.h>

#include "rpc/transport/errors.hpp"
#include "rpc_harness.hpp"

using namespace btd;
using namespace btd::rpc;
using namespace btd::rpc::testing;

TEST_CASE("session.get shows every RPC setting of the table; session.set takes each of them") {
    Harness h;
    auto got = h.result("session.get");
    for (const auto& s : daemon::settings()) {
        if (!s.from(daemon::kRpc)) continue;
        CAPTURE(s.name);
        REQUIRE(got.contains(s.name));
        // Setting the value it has is accepted and changes nothing.
        CHECK(h.result("session.set", {{s.name, got[s.name]}})[s.name] == got[s.name]);
    }
    CHECK(got.contains("listen_address"));  // engine facts stay in session.get
    CHECK(got.contains("memory_budget"));
}

TEST_CASE("session.set: rates as text, a new row (upload_slots), the table's ranges") {
    Harness h;
    auto updated =
        h.result("session.set", {{"upload_rate_limit", "1.5MiB/s"}, {"upload_slots", 7}});
    CHECK(updated["upload_rate_limit"] == 1536 * 1024);
    CHECK(updated["upload_slots"] == 7);
    CHECK(h.session->settings().upload_slots == 7);
    REQUIRE(h.saved_settings.size() == 1);
    CHECK(h.saved_settings[0].upload_slots == 7);
    auto r = h.call("session.set", {{"upload_slots", 0}, {"download_rate_limit", 5}});
    CHECK(r["error"]["code"] == errc::invalid_params);
    CHECK(r["error"]["message"] == "upload_slots must be an integer from 1 to 100");
    CHECK(h.result("session.get")["download_rate_limit"] == 0);  // nothing half-applied
    auto unknown = h.call("session.set", {{"rpc_auth", false}});
    CHECK(unknown["error"]["message"].get<std::string>().rfind("unknown param 'rpc_auth'", 0) == 0);
}
