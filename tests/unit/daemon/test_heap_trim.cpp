// HeapTrimmer: the heap is trimmed once a batch of job changes is over, never for a few single
// changes, and not while the batch is still running.
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "../../support/sanitizer.hpp"
#include "daemon/heap_trim.hpp"

using namespace btd::daemon;
using namespace std::chrono_literals;

namespace {

struct TrimFixture {
    boost::asio::io_context io;
    int trimmed = 0;
    HeapTrimmer trimmer;
    explicit TrimFixture(std::chrono::milliseconds quiet = 50ms)
        : trimmer(io, {.min_changes = 3, .quiet = quiet, .trim = [this] { ++trimmed; }}) {}

    void run_for(std::chrono::milliseconds d) {
        io.restart();
        io.run_for(d);
    }
};

}  // namespace

TEST_CASE("heap trim: a batch of changes is trimmed once, after it is over") {
    TrimFixture f;
    for (int i = 0; i < 5; ++i) f.trimmer.note_job_changed();
    f.run_for(20ms);
    CHECK(f.trimmed == 0);  // not quiet for 50 ms yet
    f.run_for(200ms);
    CHECK(f.trimmed == 1);
    f.run_for(200ms);
    CHECK(f.trimmed == 1);  // nothing new: no second trim
}

TEST_CASE("heap trim: fewer changes than the minimum are never trimmed") {
    TrimFixture f;
    f.trimmer.note_job_changed();
    f.trimmer.note_job_changed();
    f.run_for(300ms);
    CHECK(f.trimmed == 0);
    f.trimmer.note_job_changed();  // the third one since the last trim
    f.run_for(300ms);
    CHECK(f.trimmed == 1);
}

TEST_CASE("heap trim: a batch still running is not trimmed") {
    TrimFixture f(400ms);
    // One change every 10 ms for 300 ms: never 400 ms without one, even on a loaded machine.
    boost::asio::steady_timer pace(f.io);
    int sent = 0;
    std::function<void()> next = [&] {
        f.trimmer.note_job_changed();
        if (++sent == 30) return;
        pace.expires_after(10ms);
        pace.async_wait([&](boost::system::error_code) { next(); });
    };
    next();
    auto start = std::chrono::steady_clock::now();
    while (sent < 30 && std::chrono::steady_clock::now() - start < 10s) {
        f.run_for(5ms);
        if (sent < 30) CHECK(f.trimmed == 0);
    }
    REQUIRE(sent == 30);
    f.run_for(1000ms);
    CHECK(f.trimmed == 1);
}

TEST_CASE("heap trim: trim_now trims and starts the count again") {
    TrimFixture f;
    f.trimmer.note_job_changed();
    f.trimmer.note_job_changed();
    f.trimmer.trim_now();
    CHECK(f.trimmed == 1);
    f.trimmer.note_job_changed();
    f.run_for(300ms);
    CHECK(f.trimmed == 1);  // one change since the trim: below the minimum
}

TEST_CASE("heap trim: the periodic check trims only a heap with much free memory") {
    boost::asio::io_context io;
    int trimmed = 0;
    std::size_t free_now = 0;
    HeapTrimmer trimmer(
        io, {.max_free = 1000, .trim = [&] { ++trimmed; }, .free_bytes = [&] { return free_now; }});
    free_now = 1000;
    trimmer.check_free_heap();
    CHECK(trimmed == 0);
    free_now = 1001;
    trimmer.check_free_heap();
    CHECK(trimmed == 1);
}

// AddressSanitizer's allocator is not glibc's heap: nothing there for malloc_trim to give back.
#if !defined(BTD_TEST_UNDER_ASAN)
namespace {
std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}
}  // namespace

TEST_CASE("heap trim: the real trim gives freed memory back") {
    // 40 MB of small blocks, then one block after them so free() cannot shrink the heap's top:
    // the freed memory stays resident until it is trimmed.
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int i = 0; i < 40000; ++i) {
        blocks.emplace_back(new char[1000]);
        std::memset(blocks.back().get(), 1, 1000);
    }
    auto pin = std::make_unique<char[]>(1000);
    blocks.clear();
    REQUIRE(HeapTrimmer::free_heap_bytes() > 30'000'000);
    auto before = resident_bytes();
    HeapTrimmer::release_free_heap();
    auto after = resident_bytes();
    INFO("resident before " << before << ", after " << after);
    CHECK(before > after + 30'000'000);
}
#endif
