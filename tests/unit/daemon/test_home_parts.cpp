// The daemon's home-server parts that need no process: session totals, the watch dir's
// decisions and the completion hook's environment.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "daemon/completion_hook.hpp"
#include "daemon/session_totals.hpp"
#include "daemon/watch_dir.hpp"
#include "rpc/transport/errors.hpp"

using namespace btd;
using namespace btd::daemon;

namespace {

Sha1Hash id_of(std::uint8_t b) {
    Sha1Hash h{};
    h.fill(b);
    return h;
}

}  // namespace

TEST_CASE("session totals: this run counts what moved after each torrent's first report") {
    rpc::SessionTotals earlier{100, 200, 3, 4, 500};
    auto t0 = SessionCounter::Clock::now();
    SessionCounter counter(earlier, t0);
    counter.observe(id_of(1), 1000, 50);  // restored: bytes of earlier runs are the baseline
    counter.observe(id_of(1), 1500, 80);
    counter.observe(id_of(2), 0, 0);
    counter.observe(id_of(2), 300, 0);
    counter.count_added();
    counter.forget(id_of(2));          // removed: what it moved stays counted
    counter.observe(id_of(2), 10, 0);  // added again later: a new baseline
    auto t = counter.totals(t0 + std::chrono::seconds(42));
    CHECK(t.current.downloaded == 800);
    CHECK(t.current.uploaded == 30);
    CHECK(t.current.files_added == 1);
    CHECK(t.current.session_count == 1);
    CHECK(t.current.seconds_active == 42);
    CHECK(t.cumulative.downloaded == 1000);
    CHECK(t.cumulative.uploaded == 130);
    CHECK(t.cumulative.files_added == 4);
    CHECK(t.cumulative.session_count == 5);
    CHECK(t.cumulative.seconds_active == 542);
    counter.observe(id_of(1), 1400, 80);  // never negative
    CHECK(counter.totals(t0).current.downloaded == 800);
}

TEST_CASE("session totals: the file round-trips; bad files are refused") {
    rpc::SessionTotals t{1, 2, 3, 4, 5};
    auto back = parse_session_totals(session_totals_json(t));
    REQUIRE(back);
    CHECK(back->uploaded == 1);
    CHECK(back->downloaded == 2);
    CHECK(back->files_added == 3);
    CHECK(back->session_count == 4);
    CHECK(back->seconds_active == 5);
    CHECK(parse_session_totals("{}")->session_count == 0);
    CHECK_FALSE(parse_session_totals("[]"));
    CHECK_FALSE(parse_session_totals("{\"uploaded-bytes\": -1}"));
    CHECK_FALSE(parse_session_totals("{\"uploaded-bytes\": \"1\"}"));
    CHECK_FALSE(parse_session_totals("not json"));

    auto dir = std::filesystem::temp_directory_path() / "btd-test-totals";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    CHECK(load_session_totals(dir).session_count == 0);  // missing
    save_session_totals(dir, t);
    CHECK(load_session_totals(dir).seconds_active == 5);
    std::ofstream(dir / kSessionTotalsFile) << "{\"files-added\": 1.5}";
    CHECK(load_session_totals(dir).files_added == 0);  // corrupt: set aside, zero
    CHECK_FALSE(std::filesystem::exists(dir / kSessionTotalsFile));
    std::filesystem::remove_all(dir);
}

TEST_CASE("watch dir: a file is taken once it did not change between two scans") {
    CHECK(is_watched_name("a.torrent"));
    CHECK(is_watched_name("B.TORRENT"));
    CHECK(is_watched_name("x.magnet"));
    CHECK_FALSE(is_watched_name(".a.torrent"));  // hidden: being written by rsync or an editor
    CHECK_FALSE(is_watched_name("a.torrent.added"));
    CHECK_FALSE(is_watched_name("a.torrent.invalid"));
    CHECK_FALSE(is_watched_name(".torrent"));
    CHECK_FALSE(is_watched_name("a.txt"));

    StableFiles stable;
    CHECK(stable.update({{"a.torrent", 10, 1}, {"b.torrent", 5, 1}}).empty());
    CHECK(stable.update({{"a.torrent", 20, 2}, {"b.torrent", 5, 1}}) ==
          std::vector<std::string>{"b.torrent"});
    CHECK(stable.update({{"a.torrent", 20, 3}}).empty());  // mtime moved: still being written
    CHECK(stable.update({{"a.torrent", 20, 3}}) == std::vector<std::string>{"a.torrent"});
    CHECK(stable.update({{"b.torrent", 5, 1}}).empty());  // gone and back: seen anew
}

TEST_CASE("watch dir: the file's faults make it .invalid, the daemon's are retried") {
    using Kind = AddOutcome::Kind;
    CHECK(outcome_for_error(rpc::errc::bad_torrent) == Kind::invalid);
    CHECK(outcome_for_error(rpc::errc::invalid_params) == Kind::invalid);
    CHECK(outcome_for_error(rpc::errc::not_supported) == Kind::invalid);  // magnets, for now
    CHECK(outcome_for_error(rpc::errc::shutting_down) == Kind::retry);
    CHECK(outcome_for_error(rpc::errc::being_removed) == Kind::retry);
    CHECK(outcome_for_error(rpc::errc::bad_download_dir) == Kind::retry);
}

TEST_CASE("completion hook: the torrent reaches the program as environment values only") {
    CompletedTorrent t{"ab12", "$(touch /tmp/pwned); \"quoted\"", "/srv/dl", {"tv", "hd"}, {}};
    auto env = hook_environment(t, {"PATH=/usr/bin", "BTD_TORRENT_NAME=stale", "HOME=/h"});
    CHECK(env == std::vector<std::string>{"PATH=/usr/bin", "HOME=/h", "BTD_TORRENT_ID=ab12",
                                          "BTD_TORRENT_NAME=$(touch /tmp/pwned); \"quoted\"",
                                          "BTD_DOWNLOAD_DIR=/srv/dl", "BTD_LABELS=tv,hd"});
}
