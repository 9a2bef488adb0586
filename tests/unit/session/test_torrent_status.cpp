#include "core/session/torrent_status.hpp"

#include <doctest/doctest.h>

using namespace btd;
using namespace std::chrono_literals;
namespace ts = btd::torrent_status;

TEST_CASE("the state: error, then paused, then checking, then seeding or downloading") {
    auto state = [](ts::Phase p) {
        TorrentStatus s;
        ts::derive(s, p);
        return s.state;
    };
    CHECK(state({true, true, true, true}) == TorrentState::error);
    CHECK(state({false, true, true, true}) == TorrentState::paused);  // the user asked for it
    CHECK(state({false, false, true, true}) == TorrentState::checking);
    CHECK(state({false, false, false, true}) == TorrentState::seeding);
    CHECK(state({false, false, false, false}) == TorrentState::downloading);
}

TEST_CASE("progress counts checked pieces while checking, else bytes; ETA only downloading") {
    TorrentStatus s;
    s.size = 1000;
    s.have_bytes = 250;
    s.download_rate = 50;
    ts::derive(s, {false, false, true, false, 3, 4});
    CHECK(s.progress == doctest::Approx(0.75));
    CHECK(s.eta == -1);
    ts::derive(s, {false, false, false, false});
    CHECK(s.progress == doctest::Approx(0.25));
    CHECK(s.eta == 15);
    TorrentStatus empty;
    ts::derive(empty, {false, false, false, true});
    CHECK(empty.progress == 1.0);
}

TEST_CASE("the ratio is against what was downloaded, or the size when seeding from disk") {
    TorrentStatus s;
    s.size = 1000;
    s.have_bytes = 1000;
    s.uploaded = 500;
    ts::derive(s, {false, false, false, true});
    CHECK(s.ratio == doctest::Approx(0.5));
    s.downloaded = 250;
    ts::derive(s, {false, false, false, true});
    CHECK(s.ratio == doctest::Approx(2.0));
    TorrentStatus nothing;
    ts::derive(nothing, {});
    CHECK(nothing.ratio == 0);
}

TEST_CASE("seeding stops at the ratio limit or after the idle limit, whichever comes") {
    auto t0 = ts::Clock::time_point{} + 1000s;
    CHECK(ts::seed_limit_reached(1.9, 2.0, 0, t0, t0, t0).empty());
    CHECK(ts::seed_limit_reached(2.0, 2.0, 0, t0, t0, t0) == "ratio limit reached");
    CHECK(ts::seed_limit_reached(5.0, 0, 0, t0, t0, t0).empty());  // 0: no limit
    // Idle counts from the later of the last upload and the start of seeding.
    CHECK(ts::seed_limit_reached(0, 0, 60, t0 + 61s, t0, t0 - 100s) ==
          "seeding idle limit reached");
    CHECK(ts::seed_limit_reached(0, 0, 60, t0 + 61s, t0 - 100s, t0 + 10s).empty());
    CHECK(ts::seed_limit_reached(0, 0, 0, t0 + 100000s, t0, t0).empty());  // 0: never
}

TEST_CASE("merge_limits: given values replace, negative ones drop the torrent's own limit") {
    TorrentLimits own;
    own.ratio_limit = 2.0;
    own.upload_rate_limit = 1000;
    TorrentLimits change;
    change.seed_idle_limit = 600;
    ts::merge_limits(own, change);
    CHECK(own.seed_idle_limit == std::optional<std::int64_t>(600));
    CHECK(own.ratio_limit == std::optional<double>(2.0));  // untouched
    CHECK(own.upload_rate_limit == std::optional<std::int64_t>(1000));
    change = {};
    change.ratio_limit = -1;
    change.seed_idle_limit = 0;  // 0 is "no idle limit", not "the session's"
    ts::merge_limits(own, change);
    CHECK_FALSE(own.ratio_limit);
    CHECK(own.seed_idle_limit == std::optional<std::int64_t>(0));
    change = {};
    change.seed_idle_limit = -1;
    ts::merge_limits(own, change);
    CHECK_FALSE(own.seed_idle_limit);
}
