// ResumeSaver against a real Session (no trackers, no peers): files appear, follow changes,
// and disappear with the job.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>

#include "core/session/session.hpp"
#include "daemon/atomic_file.hpp"
#include "daemon/job_store.hpp"
#include "daemon/resume_json.hpp"
#include "daemon/resume_saver.hpp"

using namespace btd;
using namespace btd::daemon;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Runs the io_context until pred() holds or the timeout passes; returns pred().
bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(20ms);
    }
    return pred();
}

}  // namespace

TEST_CASE("resume saver keeps the state dir in step with the session") {
    auto root = fs::temp_directory_path() / "btd-saver-test";
    fs::remove_all(root);
    fs::create_directories(root / "dl");
    JobStore store(root / "state");
    store.prepare();

    boost::asio::io_context io;
    SessionSettings settings;
    settings.listen_port = 0;
    settings.listen_address = "127.0.0.1";
    settings.default_download_dir = root / "dl";
    settings.disk_threads = 1;
    auto session = std::make_unique<Session>(io, settings);
    SerialWorker worker([&] { store.commit(); });
    SaveTiming fast{0ms, 50ms, 10ms};
    ResumeSaver saver(io, *session, store, worker, fast);
    auto events = session->add_event_listener([&](const SessionEvent& e) { saver.on_event(e); });
    saver.start();

    auto meta = load_metainfo_file(fs::path(BTD_TEST_DATA_DIR) / "lt_multi_v1.torrent");
    meta.announce_tiers.clear();  // stay off the network
    auto id = session->add_torrent(meta, {}).id;

    auto resume_has = [&](const std::string& have) {
        worker.drain();
        try {
            auto d = decode_resume_json(read_file_limited(store.resume_path(id), 1 << 20), id);
            return d.have == have;
        } catch (const std::exception&) {
            return false;
        }
    };
    REQUIRE(run_until(io, [&] { return resume_has("000"); }));
    CHECK(store.has_torrent(id));
    CHECK(load_metainfo_file(store.torrent_path(id)).info_hash == meta.info_hash);

    // A pause is a change: saved again, with paused = true.
    session->pause(id);
    auto paused_saved = [&] {
        worker.drain();
        try {
            return decode_resume_json(read_file_limited(store.resume_path(id), 1 << 20), id).paused;
        } catch (const std::exception&) {
            return false;
        }
    };
    CHECK(run_until(io, paused_saved));

    // torrent.set's limits reach the file, and a job restored from it gets them back.
    TorrentLimits limits;
    limits.upload_rate_limit = 12345;
    limits.ratio_limit = 2.5;
    session->set_torrent_limits(id, limits);
    auto limits_saved = [&] {
        worker.drain();
        try {
            auto d = decode_resume_json(read_file_limited(store.resume_path(id), 1 << 20), id);
            return d.limits.upload_rate_limit == limits.upload_rate_limit &&
                   d.limits.ratio_limit == limits.ratio_limit && !d.limits.download_rate_limit;
        } catch (const std::exception&) {
            return false;
        }
    };
    CHECK(run_until(io, limits_saved));
    {
        boost::asio::io_context io2;
        auto settings2 = settings;
        Session restored(io2, settings2);
        AddTorrentParams params;
        params.resume = decode_resume_json(read_file_limited(store.resume_path(id), 1 << 20), id);
        params.download_dir = params.resume->download_dir;
        restored.add_torrent(meta, std::move(params));
        std::optional<ResumeData> back;
        restored.save_resume_data(id, [&](ResumeData d) { back = std::move(d); });
        CHECK(run_until(io2, [&] { return back.has_value(); }));
        REQUIRE(back);
        CHECK(back->limits.upload_rate_limit == limits.upload_rate_limit);
        CHECK(back->limits.ratio_limit == limits.ratio_limit);
        restored.shutdown([] {});
        io2.restart();
        io2.run_for(200ms);
    }

    // Shutdown: save_all completes, then the files are still there.
    bool saved_all = false;
    saver.save_all([&] { saved_all = true; });
    CHECK(run_until(io, [&] { return saved_all; }));
    CHECK(saver.saves_written() >= 2);

    // Nothing changed since: another full save hands the data over but writes no file.
    worker.drain();
    auto written = store.resume_files_written();
    CHECK(written >= 2);
    saved_all = false;
    saver.save_all([&] { saved_all = true; });
    CHECK(run_until(io, [&] { return saved_all; }));
    worker.drain();
    CHECK(store.resume_files_written() == written);
    CHECK(store.resume_writes_skipped() >= 1);

    // Removal deletes both files.
    session->remove(id, false);
    worker.drain();
    CHECK_FALSE(fs::exists(store.torrent_path(id)));
    CHECK_FALSE(fs::exists(store.resume_path(id)));

    saver.stop();
    session.reset();
    fs::remove_all(root);
}

TEST_CASE("a new job's add parameters are stored before torrent.add would reply") {
    auto root = fs::temp_directory_path() / "btd-saver-params-test";
    fs::remove_all(root);
    fs::create_directories(root / "dl");
    fs::create_directories(root / "elsewhere");
    JobStore store(root / "state");
    store.prepare();
    boost::asio::io_context io;
    SessionSettings settings;
    settings.listen_port = 0;
    settings.listen_address = "127.0.0.1";
    settings.default_download_dir = root / "dl";
    settings.disk_threads = 1;
    auto session = std::make_unique<Session>(io, settings);
    SerialWorker worker([&] { store.commit(); });
    ResumeSaver saver(io, *session, store, worker);
    auto events = session->add_event_listener([&](const SessionEvent& e) { saver.on_event(e); });
    saver.start();

    auto meta = load_metainfo_file(fs::path(BTD_TEST_DATA_DIR) / "lt_multi_v1.torrent");
    meta.announce_tiers.clear();
    AddTorrentParams params;
    params.download_dir = root / "elsewhere";
    params.paused = true;
    params.sequential = true;
    params.labels = {"tv", "hd"};
    params.file_priorities.assign(meta.files.size(), 4);
    params.file_priorities[0] = 0;
    auto id = session->add_torrent(meta, params).id;

    // As the daemon's torrent.add does: the reply waits for when_stored.
    bool stored = false;
    std::optional<ResumeData> on_disk;
    saver.when_stored([&] {
        stored = true;
        on_disk = decode_resume_json(read_file_limited(store.resume_path(id), 1 << 20), id);
    });
    REQUIRE(run_until(io, [&] { return stored; }));
    REQUIRE(on_disk);
    CHECK(store.has_torrent(id));
    CHECK(on_disk->download_dir == root / "elsewhere");
    CHECK(on_disk->paused);
    CHECK(on_disk->sequential);
    CHECK(on_disk->labels == std::vector<std::string>{"tv", "hd"});
    CHECK(on_disk->file_priorities == params.file_priorities);
    CHECK(on_disk->have.empty());  // nothing verified yet: a restore checks every file

    session->remove(id, false);
    worker.drain();
    saver.stop();
    session.reset();
    fs::remove_all(root);
}

TEST_CASE("a job added while restoring is not written again, and its resume data is refreshed") {
    auto root = fs::temp_directory_path() / "btd-saver-restore-test";
    fs::remove_all(root);
    fs::create_directories(root / "dl");
    JobStore store(root / "state");
    store.prepare();
    boost::asio::io_context io;
    SessionSettings settings;
    settings.listen_port = 0;
    settings.listen_address = "127.0.0.1";
    settings.default_download_dir = root / "dl";
    settings.disk_threads = 1;
    auto session = std::make_unique<Session>(io, settings);
    SerialWorker worker([&] { store.commit(); });
    SaveTiming slow_tick{0ms, 50ms, 1000ms};
    ResumeSaver saver(io, *session, store, worker, slow_tick);
    auto events = session->add_event_listener([&](const SessionEvent& e) { saver.on_event(e); });

    auto meta = load_metainfo_file(fs::path(BTD_TEST_DATA_DIR) / "lt_multi_v1.torrent");
    meta.announce_tiers.clear();
    AddTorrentParams params;
    params.paused = true;
    saver.set_restoring(true);
    auto id = session->add_torrent(meta, params).id;
    saver.set_restoring(false);
    saver.start();

    // The add itself queued no write: a new job's .torrent would be on disk now (a tick only
    // ever writes resume data).
    bool stored = false;
    saver.when_stored([&] { stored = true; });
    REQUIRE(run_until(io, [&] { return stored; }));
    CHECK_FALSE(store.has_torrent(id));

    // The first tick saves its resume data, as after any add.
    REQUIRE(run_until(io, [&] { return saver.saves_written() >= 1; }));
    worker.drain();
    auto on_disk = decode_resume_json(read_file_limited(store.resume_path(id), 1 << 20), id);
    CHECK(on_disk.paused);

    saver.stop();
    session.reset();
    fs::remove_all(root);
}
