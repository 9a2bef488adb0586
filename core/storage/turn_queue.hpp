#pragma once
// Long jobs that take turns: at most `concurrent` run at once, the waiting one with the highest
// priority starts next (the most recently queued among equals: checks go newest first, and
// torrents added within the same second have the same added_at). Used for whole-torrent hash
// checks, so many torrents checked after a crash do not all read the disk at the same time.
// Thread-safe; start callbacks run on the thread that calls enqueue() or finished(), never under
// the lock.
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <tuple>

namespace btd {

class TurnQueue {
  public:
    explicit TurnQueue(std::size_t concurrent) : concurrent_(concurrent < 1 ? 1 : concurrent) {}

    // Queues a job: start() runs when its turn comes (possibly inside this call), and the job
    // must then call finished() exactly once. A waiting job whose dropped() turns true (checked
    // whenever the queue moves) leaves the queue without starting and without a turn.
    void enqueue(std::int64_t priority, std::function<void()> start, std::function<bool()> dropped);
    void finished();  // a started job is done: its turn goes to the next waiting one

    std::size_t running();
    std::size_t waiting();

  private:
    struct Waiting {
        std::int64_t priority;
        std::uint64_t order;
        mutable std::function<void()> start;
        mutable std::function<bool()> dropped;
        bool operator<(const Waiting& o) const {  // highest priority first, then newest
            return std::tie(o.priority, o.order) < std::tie(priority, order);
        }
    };
    void start_next();

    const std::size_t concurrent_;
    std::mutex mutex_;
    std::set<Waiting> waiting_;
    std::size_t running_ = 0;
    std::uint64_t next_order_ = 0;
};

}  // namespace btd
