#pragma once
// A small thread pool for disk I/O and hashing. Jobs run off the network thread; their results
// are posted back to the io_context given with each job.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>

namespace btd {

class DiskPool {
public:
    explicit DiskPool(unsigned threads);  // 0 = number of cores
    ~DiskPool();

    // Runs work() on the pool, then done(result) on `io`'s thread.
    template <class Work, class Done>
    void submit(boost::asio::io_context& io, Work work, Done done) {
        boost::asio::post(pool_, [&io, work = std::move(work), done = std::move(done)]() mutable {
            auto result = work();
            boost::asio::post(io, [done = std::move(done), r = std::move(result)]() mutable {
                done(std::move(r));
            });
        });
    }
    unsigned threads() const { return threads_; }
    void join();

private:
    unsigned threads_;
    boost::asio::thread_pool pool_;
};

}  // namespace btd
