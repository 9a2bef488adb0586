#pragma once
// A small thread pool for disk I/O and hashing. Jobs run off the network thread; their results
// are posted back to the io_context given with each job. It counts, for metrics, the jobs
// waiting by kind and running, and the bytes hashed; the counters are atomics, read from any
// thread.
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <mutex>
#include <type_traits>

#include "core/storage/turn_queue.hpp"

namespace btd {

// What a pool job does, for the queue-depth counters.
enum class DiskJobKind {
    read,   // a block a peer asked for
    write,  // a downloaded piece: hash, then write
    check,  // one piece of a hash check
    other,  // file checks, moves, deletes, flushes, ...
};
inline constexpr std::size_t kDiskJobKinds = 4;

class DiskPool {
  public:
    explicit DiskPool(unsigned threads);  // 0 = number of cores
    ~DiskPool();                          // joins: waits for queued jobs to finish
    DiskPool(const DiskPool&) = delete;
    DiskPool& operator=(const DiskPool&) = delete;

    // Runs work() on the pool, then done(result) on `io`'s thread (done() with no argument if
    // work returns void). work() must not throw (catch inside and return an error value): an
    // exception escaping a pool thread terminates the process. `io` must outlive the job.
    template <class Work, class Done>
    void submit(boost::asio::io_context& io, Work work, Done done,
                DiskJobKind kind = DiskJobKind::other) {
        waiting_[index(kind)].fetch_add(1, std::memory_order_relaxed);
        boost::asio::post(pool_, [this, &io, kind, work = std::move(work),
                                  done = std::move(done)]() mutable {
            Running running(*this, kind);
            if constexpr (std::is_void_v<decltype(work())>) {
                work();
                boost::asio::post(io, std::move(done));
            } else {
                auto result = work();
                boost::asio::post(io, [done = std::move(done), r = std::move(result)]() mutable {
                    done(std::move(r));
                });
            }
        });
    }
    // Runs a job on the pool with no completion (for jobs that post their own results).
    template <class Work>
    void post(Work work) {
        waiting_[index(DiskJobKind::other)].fetch_add(1, std::memory_order_relaxed);
        boost::asio::post(pool_, [this, work = std::move(work)]() mutable {
            Running running(*this, DiskJobKind::other);
            work();
        });
    }
    unsigned threads() const { return threads_; }
    // Jobs submitted and not started yet, of one kind.
    std::int64_t waiting(DiskJobKind kind) const {
        return waiting_[index(kind)].load(std::memory_order_relaxed);
    }
    std::int64_t running() const { return running_.load(std::memory_order_relaxed); }
    // Bytes hashed since start by jobs of `kind` (check: hash checks; write: downloaded
    // pieces). Any thread.
    void note_hashed(DiskJobKind kind, std::int64_t bytes) {
        hashed_[index(kind)].fetch_add(bytes, std::memory_order_relaxed);
    }
    std::int64_t hashed_bytes(DiskJobKind kind) const {
        return hashed_[index(kind)].load(std::memory_order_relaxed);
    }
    void join();  // waits for all queued jobs; idempotent
    // Whole-torrent hash checks take turns here, one at a time (see checker.hpp).
    TurnQueue& check_turns() { return check_turns_; }

  private:
    static std::size_t index(DiskJobKind kind) { return static_cast<std::size_t>(kind); }
    // A job leaves the waiting count when it starts and the running count when it ends.
    struct Running {
        Running(DiskPool& owner, DiskJobKind kind) : pool(owner) {
            pool.waiting_[index(kind)].fetch_sub(1, std::memory_order_relaxed);
            pool.running_.fetch_add(1, std::memory_order_relaxed);
        }
        ~Running() { pool.running_.fetch_sub(1, std::memory_order_relaxed); }
        DiskPool& pool;
    };

    std::array<std::atomic<std::int64_t>, kDiskJobKinds> waiting_{};
    std::array<std::atomic<std::int64_t>, kDiskJobKinds> hashed_{};
    std::atomic<std::int64_t> running_{0};
    unsigned threads_;
    TurnQueue check_turns_{1};
    boost::asio::thread_pool pool_;
    std::once_flag joined_;
};

}  // namespace btd
