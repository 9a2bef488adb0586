// Resume persistence at scale: unchanged data is not rewritten, per-torrent limits survive the
// JSON round trip, writes are batched, and the worker's idle hook closes each batch.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "daemon/atomic_batch.hpp"
#include "daemon/atomic_file.hpp"
#include "daemon/job_store.hpp"
#include "daemon/resume_json.hpp"
#include "daemon/serial_worker.hpp"

using namespace btd;
using namespace btd::daemon;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct ScratchDir {
    fs::path path;
    ScratchDir() {
        auto pattern = (fs::temp_directory_path() / "btd-batch-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

ResumeData resume_with(std::string have) {
    ResumeData d;
    d.have = std::move(have);
    d.files = {{100, 1700000000}};
    d.added_at = 1690000000;
    d.download_dir = "/srv/downloads";
    return d;
}

Sha1Hash id_of(std::uint8_t n) {
    Sha1Hash id{};
    id[0] = n;
    return id;
}

struct stat stat_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st;
}

}  // namespace

TEST_CASE("resume JSON: per-torrent limits round trip; absent means not set") {
    auto id = id_of(7);
    auto d = resume_with("10");
    SUBCASE("all set") {
        d.limits.download_rate_limit = 1'000'000;
        d.limits.upload_rate_limit = 0;  // explicitly unlimited, not "use the session's"
        d.limits.ratio_limit = 1.75;
        d.limits.seed_idle_limit = 5400;
        auto back = decode_resume_json(encode_resume_json(id, d), id);
        CHECK(back.limits.download_rate_limit == std::optional<std::int64_t>(1'000'000));
        CHECK(back.limits.upload_rate_limit == std::optional<std::int64_t>(0));
        CHECK(back.limits.ratio_limit == std::optional<double>(1.75));
        CHECK(back.limits.seed_idle_limit == std::optional<std::int64_t>(5400));
        // Stable bytes: re-encoding what was loaded gives the same file (no needless rewrite).
        CHECK(encode_resume_json(id, back) == encode_resume_json(id, d));
    }
    SUBCASE("only one set") {
        d.limits.upload_rate_limit = 4096;
        auto text = encode_resume_json(id, d);
        CHECK(text.find("download_rate_limit") == std::string::npos);
        auto back = decode_resume_json(text, id);
        CHECK_FALSE(back.limits.download_rate_limit);
        CHECK(back.limits.upload_rate_limit == std::optional<std::int64_t>(4096));
        CHECK_FALSE(back.limits.ratio_limit);
        CHECK_FALSE(back.limits.seed_idle_limit);
    }
    SUBCASE("none set: no 'limits' key, like files written before limits existed") {
        auto text = encode_resume_json(id, d);
        CHECK(text.find("limits") == std::string::npos);
        auto back = decode_resume_json(text, id);
        CHECK_FALSE(back.limits.download_rate_limit);
        CHECK_FALSE(back.limits.upload_rate_limit);
        CHECK_FALSE(back.limits.ratio_limit);
    }
}

TEST_CASE("resume JSON: an old file without limits loads; bad limits are rejected") {
    auto id = id_of(9);
    std::string old_file = R"({"version": 1, "info_hash": ")" + to_hex(id) +
                           R"(", "have": "1", "files": [{"size": 5, "mtime": 1}],
        "paused": false, "total_downloaded": 0, "total_uploaded": 0, "added_at": 1,
        "download_dir": "/d"})";
    auto d = decode_resume_json(old_file, id);
    CHECK(d.have == "1");
    CHECK_FALSE(d.limits.download_rate_limit);
    CHECK(d.done_at == 0);  // files from before done dates load, with none
    d.done_at = 1764497112;
    CHECK(decode_resume_json(encode_resume_json(id, d), id).done_at == 1764497112);
    CHECK(d.activity_at == 0);  // and from before activity dates, with none
    d.activity_at = 1764497200;
    CHECK(decode_resume_json(encode_resume_json(id, d), id).activity_at == 1764497200);

    auto with_limits = [&](const std::string& limits) {
        auto text = old_file;
        text.insert(text.rfind('}'), R"(, "limits": )" + limits);
        return text;
    };
    CHECK(decode_resume_json(with_limits(R"({"ratio_limit": 2})"), id).limits.ratio_limit ==
          std::optional<double>(2.0));
    CHECK_THROWS_AS(decode_resume_json(with_limits("[]"), id), ResumeFormatError);
    CHECK_THROWS_AS(decode_resume_json(with_limits(R"({"upload_rate_limit": -1})"), id),
                    ResumeFormatError);
    CHECK_THROWS_AS(decode_resume_json(with_limits(R"({"download_rate_limit": "fast"})"), id),
                    ResumeFormatError);
    CHECK_THROWS_AS(decode_resume_json(with_limits(R"({"ratio_limit": null})"), id),
                    ResumeFormatError);
    CHECK_THROWS_AS(decode_resume_json(with_limits(R"({"seed_idle_limit": -5})"), id),
                    ResumeFormatError);
}

TEST_CASE("resume JSON: file priorities and sequential round trip; bad ones are rejected") {
    auto id = id_of(11);
    auto d = resume_with("1");
    auto plain = encode_resume_json(id, d);
    CHECK(plain.find("file_priorities") == std::string::npos);  // all default: not written
    CHECK(plain.find("sequential") == std::string::npos);
    auto back = decode_resume_json(plain, id);
    CHECK(back.file_priorities.empty());
    CHECK_FALSE(back.sequential);

    d.file_priorities = {0, 7, 4};
    d.sequential = true;
    auto text = encode_resume_json(id, d);
    back = decode_resume_json(text, id);
    CHECK(back.file_priorities == std::vector<int>{0, 7, 4});
    CHECK(back.sequential);
    CHECK(encode_resume_json(id, back) == text);

    auto with = [&](const std::string& member) {
        auto t = plain;
        t.insert(t.rfind('}'), ", " + member);
        return t;
    };
    CHECK(decode_resume_json(with(R"("file_priorities": [1])"), id).file_priorities ==
          std::vector<int>{1});
    for (const char* bad :
         {R"("file_priorities": [8])", R"("file_priorities": [-1])",
          R"("file_priorities": ["high"])", R"("file_priorities": {})", R"("sequential": 1)"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(decode_resume_json(with(bad), id), ResumeFormatError);
    }
}

TEST_CASE("job store: identical resume data is not rewritten") {
    ScratchDir dir;
    JobStore store(dir.path);
    store.prepare();
    auto id = id_of(1);

    CHECK(store.save_resume(id, resume_with("10")));
    CHECK_FALSE(fs::exists(store.resume_path(id)));  // staged: visible after commit()
    store.commit();
    auto first = stat_of(store.resume_path(id));
    CHECK_FALSE(store.save_resume(id, resume_with("10")));         // same bytes: skipped
    CHECK(stat_of(store.resume_path(id)).st_ino == first.st_ino);  // no rename happened
    CHECK(store.resume_files_written() == 1);
    CHECK(store.resume_writes_skipped() == 1);

    CHECK(store.save_resume(id, resume_with("11")));  // changed: written
    store.commit();
    CHECK(decode_resume_json(read_file_limited(store.resume_path(id), 1 << 20), id).have == "11");
    CHECK(store.resume_files_written() == 2);

    // A removed job forgets its digest: saving it again writes the file again.
    store.remove(id);
    CHECK_FALSE(fs::exists(store.resume_path(id)));
    CHECK(store.save_resume(id, resume_with("11")));
    store.commit();
    CHECK(fs::exists(store.resume_path(id)));

    // Removing a job with a staged save drops the save: commit() must not resurrect the file.
    CHECK(store.save_resume(id, resume_with("01")));
    store.remove(id);
    store.commit();
    CHECK_FALSE(fs::exists(store.resume_path(id)));
    CHECK_FALSE(fs::exists(temp_path_for(store.resume_path(id))));
}

TEST_CASE("job store: after a restart, saving the loaded resume data writes nothing") {
    ScratchDir dir;
    auto torrent_file = fs::path(BTD_TEST_DATA_DIR) / "lt_multi_v1.torrent";
    auto id = load_metainfo_file(torrent_file).info_hash;
    auto data = resume_with("000");
    data.limits.ratio_limit = 0.5;
    {
        JobStore before(dir.path);
        before.prepare();
        before.save_torrent(id, read_file_limited(torrent_file, 1 << 24));
        CHECK(before.save_resume(id, data));
        before.commit();
    }
    JobStore after(dir.path);  // a new daemon: nothing remembered in memory
    auto inode = stat_of(after.resume_path(id)).st_ino;
    auto jobs = after.load_all();
    REQUIRE(jobs.size() == 1);
    REQUIRE(jobs[0].resume);
    CHECK_FALSE(after.save_resume(id, *jobs[0].resume));  // what was loaded: no write
    CHECK(stat_of(after.resume_path(id)).st_ino == inode);
    CHECK(after.resume_files_written() == 0);

    auto changed = *jobs[0].resume;
    changed.total_uploaded += 1;
    CHECK(after.save_resume(id, changed));
    after.commit();
    CHECK(stat_of(after.resume_path(id)).st_ino != inode);
}

TEST_CASE("serial worker: on_idle closes each batch, before drain() returns") {
    std::atomic<int> done{0};
    std::atomic<int> idle_calls{0};
    std::atomic<int> done_at_idle{-1};
    SerialWorker worker([&] {
        idle_calls++;
        done_at_idle = done.load();
    });
    for (int i = 0; i < 50; ++i) worker.post([&] { done++; });
    worker.drain();
    CHECK(done == 50);
    CHECK(done_at_idle == 50);  // ran after the last task of the batch...
    CHECK(idle_calls >= 1);
    CHECK(idle_calls < 50);  // ...not after every task (the tasks were queued together)
}

TEST_CASE("serial worker: discard_pending drops queued tasks, the running one finishes") {
    std::atomic<bool> started{false};
    std::atomic<bool> release{false};
    std::atomic<int> ran{0};
    SerialWorker worker;
    worker.post([&] {
        started = true;
        for (int i = 0; i < 500 && !release; ++i) std::this_thread::sleep_for(2ms);
        ran++;
    });
    for (int i = 0; i < 10; ++i) worker.post([&] { ran++; });
    for (int i = 0; i < 500 && !started; ++i) std::this_thread::sleep_for(2ms);
    REQUIRE(started);
    CHECK(worker.discard_pending() == 10);
    release = true;
    worker.drain();
    CHECK(ran == 1);
}

TEST_CASE("atomic batch: nothing visible before commit, everything after; discard") {
    ScratchDir dir;
    auto a = dir.path / "a.json", b = dir.path / "b.json", c = dir.path / "c.json";
    write_file_atomic(a, "old a", 0600);
    {
        AtomicBatch batch;
        batch.stage(a, "new a", 0600);
        batch.stage(b, "first b", 0644);
        batch.stage(b, "new b", 0600);  // staged twice: the last content wins
        batch.stage(c, "c", 0600);
        batch.discard(c);
        CHECK(read_file_limited(a, 100) == "old a");
        CHECK_FALSE(fs::exists(b));
        CHECK(batch.commit() == 2);
        CHECK(batch.empty());
    }
    CHECK(read_file_limited(a, 100) == "new a");
    CHECK(read_file_limited(b, 100) == "new b");
    CHECK((stat_of(b).st_mode & 0777) == 0600);
    CHECK_FALSE(fs::exists(c));
    for (auto& e : fs::directory_iterator(dir.path)) CHECK(e.path().extension() != ".tmp");

    // Destroyed without commit: the temps go, the files keep their content.
    {
        AtomicBatch batch;
        batch.stage(a, "lost", 0600);
    }
    CHECK(read_file_limited(a, 100) == "new a");
    CHECK_FALSE(fs::exists(temp_path_for(a)));
}

TEST_CASE("atomic batch: a file that cannot be saved does not stop the others") {
    ScratchDir dir;
    fs::create_directories(dir.path / "sub");
    auto good = dir.path / "good.json";
    auto bad = dir.path / "sub" / "bad.json";
    AtomicBatch batch;
    batch.stage(good, "ok", 0600);
    batch.stage(bad, "x", 0600);
    fs::create_directories(bad);  // a directory where the file should go: rename fails
    CHECK_THROWS_AS(batch.commit(), std::system_error);
    CHECK(read_file_limited(good, 100) == "ok");
    CHECK(fs::is_directory(bad));
    CHECK_FALSE(fs::exists(temp_path_for(bad)));
}
