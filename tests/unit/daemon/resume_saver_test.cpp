// ResumeSaver against a real Session (no trackers, no peers): files appear, follow changes,
// and disappear with the job.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>

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
    SerialWorker worker;
    SaveTiming fast{0ms, 50ms, 10ms};
    ResumeSaver saver(io, *session, store, worker, fast);
    session->set_event_handler([&](const SessionEvent& e) { saver.on_event(e); });
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

    // Shutdown: save_all completes, then the files are still there.
    bool saved_all = false;
    saver.save_all([&] { saved_all = true; });
    CHECK(run_until(io, [&] { return saved_all; }));
    CHECK(saver.saves_written() >= 2);

    // Removal deletes both files.
    session->remove(id, false);
    worker.drain();
    CHECK_FALSE(fs::exists(store.torrent_path(id)));
    CHECK_FALSE(fs::exists(store.resume_path(id)));

    saver.stop();
    session.reset();
    fs::remove_all(root);
}
