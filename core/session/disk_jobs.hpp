#pragma once
// The seam between a torrent's parts and the disk pool: work runs off the network thread and
// returns the continuation to run back on it. PoolDiskJobs is the real one; a unit test passes
// its own to run jobs when it likes (or never).
#include <boost/asio/io_context.hpp>
#include <functional>

#include "core/storage/disk_pool.hpp"

namespace btd {

class DiskJobs {
  public:
    using Continuation = std::function<void()>;
    using Work = std::function<Continuation()>;
    virtual ~DiskJobs() = default;
    // work() runs off the network thread and must not throw; what it returns runs on the
    // network thread afterwards, never inline.
    virtual void run(Work work) = 0;
    // `bytes` of a downloaded piece were hashed (for the metrics). Any thread.
    virtual void note_hashed(std::int64_t /*bytes*/) {}
};

class PoolDiskJobs : public DiskJobs {
  public:
    PoolDiskJobs(DiskPool& pool, boost::asio::io_context& io) : pool_(pool), io_(io) {}
    void run(Work work) override {
        pool_.submit(
            io_, std::move(work), [](Continuation next) { next(); }, DiskJobKind::write);
    }
    void note_hashed(std::int64_t bytes) override { pool_.note_hashed(DiskJobKind::write, bytes); }

  private:
    DiskPool& pool_;
    boost::asio::io_context& io_;
};

}  // namespace btd
