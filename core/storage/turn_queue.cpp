#include "core/storage/turn_queue.hpp"

#include <vector>

namespace btd {

void TurnQueue::enqueue(std::int64_t priority, std::function<void()> start,
                        std::function<bool()> dropped) {
    {
        std::lock_guard lock(mutex_);
        waiting_.insert(Waiting{priority, next_order_++, std::move(start), std::move(dropped)});
    }
    start_next();
}

void TurnQueue::finished() {
    {
        std::lock_guard lock(mutex_);
        if (running_ > 0) --running_;
    }
    start_next();
}

void TurnQueue::start_next() {
    std::vector<std::function<void()>> to_start, gone;  // run or destroyed after unlocking
    std::vector<std::function<bool()>> gone_checks;
    {
        std::lock_guard lock(mutex_);
        for (auto it = waiting_.begin(); it != waiting_.end();) {
            bool drop = it->dropped && it->dropped();
            if (drop || running_ < concurrent_) {
                if (!drop) ++running_;
                (drop ? gone : to_start).push_back(std::move(it->start));
                gone_checks.push_back(std::move(it->dropped));
                it = waiting_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& start : to_start) start();
}

std::size_t TurnQueue::running() {
    std::lock_guard lock(mutex_);
    return running_;
}

std::size_t TurnQueue::waiting() {
    std::lock_guard lock(mutex_);
    return waiting_.size();
}

}  // namespace btd
