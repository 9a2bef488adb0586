#pragma once
// Gives freed heap memory back to the kernel after bulk work. glibc keeps the chunks a batch
// frees (a restore of 10,000 jobs, thousands of adds or removals: parsed .torrent files,
// bencoded state, RPC buffers) inside its heap, where they count as resident memory: about
// 20 MiB of the daemon's RSS after 10,000 paused torrents were restored. malloc_trim(0) returns
// every free page of every arena. It is called when a batch of job changes is over (single adds
// and removals never pay for it) and from a periodic check when the heap holds more free memory
// than `max_free` (e.g. after the state files of every restored job were rewritten, or after a
// large RPC reply).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace btd::daemon {

class HeapTrimmer {
  public:
    struct Options {
        int min_changes = 64;                   // jobs added or removed since the last trim
        std::chrono::milliseconds quiet{1000};  // no change for this long: the batch is over
        std::size_t max_free = 16 << 20;        // free heap bytes tolerated by check_free_heap()
        std::function<void()> trim = release_free_heap;  // malloc_trim(0); replaced in tests
        std::function<std::size_t()> free_bytes = free_heap_bytes;  // mallinfo2(); tests too
    };
    HeapTrimmer(boost::asio::io_context& io, Options options);
    HeapTrimmer(const HeapTrimmer&) = delete;
    HeapTrimmer& operator=(const HeapTrimmer&) = delete;

    // A job came or went (or was restored). Network thread.
    void note_job_changed();
    void trim_now();
    // Periodic (the daemon's status report): trims if more than max_free bytes are free.
    void check_free_heap();
    void stop() { timer_.cancel(); }
    int trims() const { return trims_; }

    static void release_free_heap();
    static std::size_t free_heap_bytes();  // free chunks in every arena, 0 if unknown

  private:
    void arm();
    void on_quiet_check();

    Options options_;
    boost::asio::steady_timer timer_;
    bool armed_ = false;
    int pending_changes_ = 0;
    bool changed_since_armed_ = false;
    int trims_ = 0;
};

}  // namespace btd::daemon
