#include "core/storage/disk_pool.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace btd;
using namespace std::chrono_literals;

namespace {

// Holds pool threads inside their jobs until opened.
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    int inside = 0;
    void enter() {
        std::unique_lock lock(m);
        ++inside;
        cv.notify_all();
        cv.wait(lock, [&] { return open; });
    }
    void wait_inside(int n) {
        std::unique_lock lock(m);
        REQUIRE(cv.wait_for(lock, 10s, [&] { return inside >= n; }));
    }
    void release() {
        std::lock_guard lock(m);
        open = true;
        cv.notify_all();
    }
};

}  // namespace

TEST_CASE("the pool counts jobs waiting by kind and running, and goes back to zero") {
    DiskPool pool(1);
    boost::asio::io_context io;
    Gate gate;
    int done = 0;
    pool.submit(
        io, [&] { gate.enter(); }, [&] { ++done; }, DiskJobKind::check);
    gate.wait_inside(1);  // the only thread is busy: everything else waits
    pool.submit(
        io, [] { return 1; }, [&](int) { ++done; }, DiskJobKind::read);
    pool.submit(
        io, [] { return 2; }, [&](int) { ++done; }, DiskJobKind::read);
    pool.submit(
        io, [] {}, [&] { ++done; }, DiskJobKind::write);
    pool.submit(
        io, [] {}, [&] { ++done; });  // other
    pool.post([] {});                 // other, no completion
    CHECK(pool.running() == 1);
    CHECK(pool.waiting(DiskJobKind::check) == 0);
    CHECK(pool.waiting(DiskJobKind::read) == 2);
    CHECK(pool.waiting(DiskJobKind::write) == 1);
    CHECK(pool.waiting(DiskJobKind::other) == 2);
    gate.release();
    pool.join();
    io.run();
    CHECK(done == 5);
    CHECK(pool.running() == 0);
    for (auto kind :
         {DiskJobKind::read, DiskJobKind::write, DiskJobKind::check, DiskJobKind::other})
        CHECK(pool.waiting(kind) == 0);
}

TEST_CASE("hashed bytes are counted per kind from any thread") {
    DiskPool pool(2);
    for (int i = 0; i < 100; ++i)
        pool.post([&pool] { pool.note_hashed(DiskJobKind::check, 1 << 20); });
    pool.note_hashed(DiskJobKind::write, 16384);
    pool.join();
    CHECK(pool.hashed_bytes(DiskJobKind::check) == 100LL << 20);
    CHECK(pool.hashed_bytes(DiskJobKind::write) == 16384);
    CHECK(pool.hashed_bytes(DiskJobKind::read) == 0);
}
