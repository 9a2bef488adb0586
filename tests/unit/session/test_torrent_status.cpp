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

TEST_CASE("no idle time counts before seeding started (completion still being checked)") {
    ts::Clock::time_point unset{};
    auto day = unset + std::chrono::hours(24);
    // Was "seeding idle limit reached": idle measured from the clock's epoch, so a tick between
    // the last piece and the completion check paused a torrent the moment it finished.
    CHECK(ts::seed_limit_reached(0, 0, 60, day, unset, unset).empty());
    CHECK(ts::seed_limit_reached(3.0, 2.0, 60, day, unset, unset) == "ratio limit reached");
    CHECK(ts::seed_limit_reached(0, 0, 60, day + 61s, unset, day) == "seeding idle limit reached");
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

TEST_CASE("reset_keeping_capacity: every member back to its default, the buffers kept") {
    TorrentStatus s;
    s.id = sha1("a");
    s.name = "a torrent with a name long enough to live on the heap";
    s.state = TorrentState::error;
    s.progress = 0.5;
    s.size = s.total_size = s.have_bytes = s.downloaded = s.uploaded = 7;
    s.download_rate = s.upload_rate = s.eta = s.added_at = s.done_at = 9;
    s.peers = s.seeds = s.queue_position = 3;
    s.ratio = 2;
    s.error = "no space left on the device, and a long message with it";
    s.download_dir = "/somewhere/far/away/from/the/default/download/directory";
    s.sequential = s.stalled = true;
    s.labels = {"movies", "hd"};
    s.seconds_downloading = s.seconds_seeding = s.activity_at = s.started_at = 11;
    s.metadata_progress = 0.25;
    s.corrupt_bytes = s.desired_available = s.manual_announce_at = 13;
    auto name_capacity = s.name.capacity();
    auto labels_capacity = s.labels.capacity();

    ts::reset_keeping_capacity(s);
    const TorrentStatus fresh;
    CHECK(s.id == fresh.id);
    CHECK(s.name.empty());
    CHECK(s.error.empty());
    CHECK(s.download_dir.empty());
    CHECK(s.labels.empty());
    CHECK(s.state == fresh.state);
    CHECK(s.progress == fresh.progress);
    CHECK(s.size == 0);
    CHECK(s.total_size == 0);
    CHECK(s.have_bytes == 0);
    CHECK(s.downloaded == 0);
    CHECK(s.uploaded == 0);
    CHECK(s.download_rate == 0);
    CHECK(s.upload_rate == 0);
    CHECK(s.peers == 0);
    CHECK(s.seeds == 0);
    CHECK(s.eta == fresh.eta);
    CHECK(s.ratio == 0);
    CHECK(s.added_at == 0);
    CHECK(!s.sequential);
    CHECK(s.done_at == 0);
    CHECK(s.queue_position == fresh.queue_position);
    CHECK(!s.stalled);
    CHECK(s.seconds_downloading == 0);
    CHECK(s.seconds_seeding == 0);
    CHECK(s.metadata_progress == fresh.metadata_progress);
    CHECK(s.activity_at == 0);
    CHECK(s.started_at == 0);
    CHECK(s.corrupt_bytes == 0);
    CHECK(s.desired_available == 0);
    CHECK(s.manual_announce_at == 0);
    CHECK(s.name.capacity() == name_capacity);
    CHECK(s.labels.capacity() == labels_capacity);
}
