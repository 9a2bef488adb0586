#pragma once
// A small thread pool for disk I/O and hashing. Jobs run off the network thread; their results
// are posted back to the io_context given with each job.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <mutex>
#include <type_traits>

#include "core/storage/turn_queue.hpp"

namespace btd {

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
    void submit(boost::asio::io_context& io, Work work, Done done) {
        boost::asio::post(pool_, [&io, work = std::move(work), done = std::move(done)]() mutable {
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
        boost::asio::post(pool_, std::move(work));
    }
    unsigned threads() const { return threads_; }
    void join();  // waits for all queued jobs; idempotent
    // Whole-torrent hash checks take turns here, one at a time (see checker.hpp).
    TurnQueue& check_turns() { return check_turns_; }

  private:
    unsigned threads_;
    TurnQueue check_turns_{1};
    boost::asio::thread_pool pool_;
    std::once_flag joined_;
};

}  // namespace btd
