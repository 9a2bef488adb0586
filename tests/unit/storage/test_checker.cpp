#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <set>
#include <thread>

#include "core/storage/checker.hpp"
#include "core/storage/disk_pool.hpp"
#include "storage_fixture.hpp"

using namespace btd;
using namespace btd::test;
using namespace std::chrono_literals;

namespace {

// Runs io until `done` or a deadline, so a broken callback chain fails instead of hanging.
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::seconds limit = 30s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_for(10ms);
        if (io.stopped()) io.restart();
    }
    return done();
}

}  // namespace

TEST_CASE("DiskPool runs work off the io thread and posts results back to it") {
    boost::asio::io_context io;
    DiskPool pool(2);
    CHECK(pool.threads() == 2);
    const auto io_thread = std::this_thread::get_id();
    std::thread::id work_thread, done_thread;
    int result = 0;
    bool void_done = false;
    pool.submit(
        io,
        [&] {
            work_thread = std::this_thread::get_id();
            return 42;
        },
        [&](int r) {
            done_thread = std::this_thread::get_id();
            result = r;
        });
    pool.submit(
        io, [] {}, [&] { void_done = true; });
    REQUIRE(run_until(io, [&] { return result != 0 && void_done; }));
    CHECK(result == 42);
    CHECK(work_thread != io_thread);
    CHECK(done_thread == io_thread);
    pool.join();
    pool.join();  // idempotent
}

TEST_CASE("DiskPool jobs run in parallel; 0 threads means one per core") {
    DiskPool defaulted(0);
    CHECK(defaulted.threads() >= 1);

    DiskPool pool(2);
    std::mutex m;
    std::condition_variable cv;
    int arrived = 0;
    bool both_met = true;
    auto job = [&] {
        std::unique_lock lock(m);
        ++arrived;
        cv.notify_all();
        // Only returns early if the other job runs at the same time.
        if (!cv.wait_for(lock, 10s, [&] { return arrived == 2; })) both_met = false;
    };
    pool.post(job);
    pool.post(job);
    pool.join();
    CHECK(arrived == 2);
    CHECK(both_met);
}

TEST_CASE("check_all_pieces reports every piece once, in parallel, on the io thread") {
    TempDir dir;
    std::vector<FileSpec> files{{"c/one", 100'000}, {"c/two", 77'777}, {"c/three", 50'000}};
    auto t = make_torrent(files, 4096, 3);
    const int n = t.meta.num_pieces();
    auto storage = std::make_shared<Storage>(t.meta, dir.path());
    for (int p = 0; p < n; ++p) storage->write_piece(p, t.piece(p));
    storage->close_files();
    // Corrupt one byte in piece 5 and truncate the last file (its last pieces go bad).
    auto one = read_file(dir.path() / "c/one");
    one[5 * 4096 + 17] = static_cast<char>(one[5 * 4096 + 17] ^ 1);
    write_file(dir.path() / "c/one", one);
    fs::resize_file(dir.path() / "c/three", 40'000);
    const std::int64_t three_start = 100'000 + 77'777;
    const int first_short = static_cast<int>((three_start + 40'000) / 4096);

    boost::asio::io_context io;
    DiskPool pool(4);
    const auto io_thread = std::this_thread::get_id();
    std::map<int, bool> results;
    int duplicates = 0, done_calls = 0;
    bool wrong_thread = false;
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    auto start = std::chrono::steady_clock::now();
    check_all_pieces(
        pool, io, storage, {},
        [&](int piece, bool ok) {
            if (std::this_thread::get_id() != io_thread) wrong_thread = true;
            if (!results.emplace(piece, ok).second) ++duplicates;
        },
        [&] { ++done_calls; }, cancel);
    REQUIRE(run_until(io, [&] { return done_calls > 0; }));
    io.restart();
    io.poll();  // nothing else may arrive
    MESSAGE("checked " << n << " pieces in "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count()
                       << " ms");
    CHECK(done_calls == 1);
    CHECK(duplicates == 0);
    CHECK_FALSE(wrong_thread);
    REQUIRE(static_cast<int>(results.size()) == n);
    for (int p = 0; p < n; ++p) {
        CAPTURE(p);
        bool expected = p != 5 && p < first_short;
        CHECK(results[p] == expected);
    }
}

TEST_CASE("check_all_pieces: subset, empty subset, cancel") {
    TempDir dir;
    auto t = make_torrent({{"s/data", 64 * 1024}}, 1024, 9);
    auto storage = std::make_shared<Storage>(t.meta, dir.path());
    for (int p = 0; p < t.meta.num_pieces(); ++p) storage->write_piece(p, t.piece(p));
    boost::asio::io_context io;
    DiskPool pool(2);

    SUBCASE("only the marked pieces") {
        std::vector<bool> which(t.meta.num_pieces(), false);
        which[3] = which[60] = true;
        std::set<int> seen;
        bool done = false;
        check_all_pieces(
            pool, io, storage, which,
            [&](int p, bool ok) {
                if (ok) seen.insert(p);
            },
            [&] { done = true; }, nullptr);
        REQUIRE(run_until(io, [&] { return done; }));
        CHECK(seen == std::set<int>{3, 60});
    }
    SUBCASE("nothing to check still completes asynchronously") {
        bool done = false;
        check_all_pieces(
            pool, io, storage, std::vector<bool>(t.meta.num_pieces(), false), [](int, bool) {},
            [&] { done = true; }, nullptr);
        CHECK_FALSE(done);
        REQUIRE(run_until(io, [&] { return done; }));
    }
    SUBCASE("cancel stops callbacks and the owner may go away") {
        auto cancel = std::make_shared<std::atomic<bool>>(false);
        auto owner = std::make_shared<int>(0);  // stands in for a Torrent
        std::weak_ptr<int> watch = owner;
        int reported = 0;
        bool done = false;
        check_all_pieces(
            pool, io, storage, {},
            [&, owner](int, bool) {
                ++reported;
                cancel->store(true);  // dropped after the first result
            },
            [&, owner] { done = true; }, cancel);
        owner.reset();
        run_until(io, [&] { return reported > 0; });
        pool.join();  // let running jobs finish, then deliver what they posted
        io.restart();
        io.run_for(200ms);
        CHECK(reported == 1);
        CHECK_FALSE(done);
        CHECK(watch.expired());  // the callbacks (and what they hold) were released
    }
}

TEST_CASE("check_all_pieces reads nothing of files that are missing or short") {
    TempDir dir;
    auto t = make_torrent({{"m/first", 40'000}, {"m/second", 30'000}}, 4096, 4);
    const int n = t.meta.num_pieces();
    boost::asio::io_context io;
    DiskPool pool(2);
    auto check = [&](const std::shared_ptr<Storage>& storage) {
        std::map<int, bool> results;
        bool done = false;
        check_all_pieces(
            pool, io, storage, {}, [&](int p, bool ok) { results.emplace(p, ok); },
            [&] { done = true; }, nullptr);
        REQUIRE(run_until(io, [&] { return done; }));
        REQUIRE(static_cast<int>(results.size()) == n);
        return results;
    };

    SUBCASE("no data at all: every piece bad, and no file state built for it") {
        auto storage = std::make_shared<Storage>(t.meta, dir.path());
        for (const auto& [piece, ok] : check(storage)) CHECK_FALSE(ok);
        CHECK_FALSE(storage->holds_file_state());
    }
    SUBCASE("the first file whole, the second missing: only the first file's pieces are good") {
        {
            Storage writer(t.meta, dir.path());
            for (int p = 0; p < n; ++p) writer.write_piece(p, t.piece(p));
        }
        fs::remove(dir.path() / "m/second");
        auto results = check(std::make_shared<Storage>(t.meta, dir.path()));
        const int last_of_first = (40'000 - 1) / 4096;  // shares its end with the second file
        for (const auto& result : results) {  // no structured binding: clang 14 cannot CAPTURE one
            CAPTURE(result.first);
            CHECK(result.second == (result.first < last_of_first));
        }
    }
    SUBCASE("a skipped file's bytes in the part store still verify") {
        auto storage = std::make_shared<Storage>(t.meta, dir.path());
        storage->set_skipped_files({false, true});
        for (int p = 0; p < n; ++p) storage->write_piece(p, t.piece(p));
        storage->flush();
        REQUIRE_FALSE(fs::exists(dir.path() / "m/second"));
        auto results = check(storage);
        const int shared_piece = (40'000 - 1) / 4096;  // its bytes of the second file: part store
        CHECK(results.at(shared_piece));
        CHECK(results.at(0));
    }
}

TEST_CASE("TurnQueue: at most `concurrent` running, highest priority first, newest among equals") {
    TurnQueue q(1);
    std::vector<int> started;
    bool drop_four = false;
    q.enqueue(
        0, [&] { started.push_back(1); }, nullptr);  // free turn: starts at once
    q.enqueue(
        5, [&] { started.push_back(2); }, nullptr);
    q.enqueue(
        9, [&] { started.push_back(3); }, nullptr);
    q.enqueue(
        9, [&] { started.push_back(4); }, [&] { return drop_four; });
    q.enqueue(
        5, [&] { started.push_back(5); }, nullptr);
    CHECK(started == std::vector<int>{1});
    CHECK(q.running() == 1);
    CHECK(q.waiting() == 4);
    drop_four = true;  // the newest of the highest priority leaves without a turn
    q.finished();
    CHECK(started == std::vector<int>{1, 3});
    CHECK(q.waiting() == 2);
    q.finished();
    q.finished();
    CHECK(started == std::vector<int>{1, 3, 5, 2});
    q.finished();
    CHECK(q.running() == 0);
    CHECK(q.waiting() == 0);
}

TEST_CASE("long checks wait for their turn, newest first; small ones and cancels do not wait") {
    TempDir dir;
    boost::asio::io_context io;
    DiskPool pool(1);
    std::vector<std::shared_ptr<Storage>> storages;
    for (int i = 0; i < 3; ++i) {
        auto t = make_torrent({{"q" + std::to_string(i) + "/data", 32 * 1024}}, 1024, 20 + i);
        storages.push_back(std::make_shared<Storage>(t.meta, dir.path()));
        for (int p = 0; p < t.meta.num_pieces(); ++p) storages[i]->write_piece(p, t.piece(p));
    }
    // Another long check holds the only turn.
    bool other_running = false;
    pool.check_turns().enqueue(
        0, [&] { other_running = true; }, nullptr);
    REQUIRE(other_running);

    std::vector<int> order;  // torrent of each reported piece
    std::vector<int> done_order;
    auto check = [&](int i, CheckOptions options, std::shared_ptr<std::atomic<bool>> cancel) {
        check_all_pieces(
            pool, io, storages[i], {},
            [&order, i](int, bool ok) {
                CHECK(ok);
                order.push_back(i);
            },
            [&done_order, i] { done_order.push_back(i); }, cancel, options);
    };
    SUBCASE("small checks skip the queue") {
        check(0, CheckOptions{}, nullptr);  // 32 KiB <= the default 64 MiB
        REQUIRE(run_until(io, [&] { return done_order.size() == 1; }));
        CHECK(order.size() == 32);
    }
    SUBCASE("long ones take turns, the highest priority (newest added) first") {
        check(0, {.priority = 100, .queue_above_bytes = 0}, nullptr);
        check(1, {.priority = 300, .queue_above_bytes = 0}, nullptr);
        check(2, {.priority = 200, .queue_above_bytes = 0}, nullptr);
        auto cancel = std::make_shared<std::atomic<bool>>(false);
        check(0, {.priority = 400, .queue_above_bytes = 0}, cancel);
        // Each statted its files and queued; nothing reads while the turn is taken.
        REQUIRE(run_until(io, [&] { return pool.check_turns().waiting() == 4; }));
        io.restart();
        io.run_for(100ms);
        CHECK(order.empty());
        cancel->store(true);  // the newest one is removed before its turn: it never reports
        pool.check_turns().finished();
        REQUIRE(run_until(io, [&] { return done_order.size() == 3; }));
        CHECK(done_order == std::vector<int>{1, 2, 0});
        REQUIRE(order.size() == 96);
        // One torrent at a time: every piece of 1, then of 2, then of 0.
        for (std::size_t k = 0; k < order.size(); ++k) CHECK(order[k] == done_order[k / 32]);
        CHECK(pool.check_turns().running() == 0);
        CHECK(pool.check_turns().waiting() == 0);
    }
}
