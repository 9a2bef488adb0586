#include "daemon/heap_trim.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <cstddef>

namespace btd::daemon {

HeapTrimmer::HeapTrimmer(boost::asio::io_context& io, Options options)
    : options_(std::move(options)), timer_(io) {}

void HeapTrimmer::release_free_heap() {
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
}

std::size_t HeapTrimmer::free_heap_bytes() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    return ::mallinfo2().fordblks;
#else
    return 0;
#endif
}

void HeapTrimmer::check_free_heap() {
    if (options_.free_bytes() > options_.max_free) trim_now();
}

void HeapTrimmer::note_job_changed() {
    ++pending_changes_;
    changed_since_armed_ = true;
    if (!armed_) arm();
}

void HeapTrimmer::trim_now() {
    auto started = std::chrono::steady_clock::now();
    options_.trim();
    ++trims_;
    pending_changes_ = 0;
    spdlog::debug("heap trimmed in {} us", std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - started)
                                               .count());
}

void HeapTrimmer::arm() {
    armed_ = true;
    changed_since_armed_ = false;
    timer_.expires_after(options_.quiet);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        armed_ = false;
        on_quiet_check();
    });
}

// A batch still running re-arms the timer; a finished one big enough is trimmed; a few single
// changes wait for more.
void HeapTrimmer::on_quiet_check() {
    if (changed_since_armed_) return arm();
    if (pending_changes_ >= options_.min_changes) trim_now();
}

}  // namespace btd::daemon
