#include "core/peer/upload_queue.hpp"

#include <algorithm>

namespace btd {

UploadQueue::Verdict UploadQueue::on_request(const BlockRef& block, bool valid, bool choking,
                                             bool fast_extension, const Limits& limits) {
    if (!valid) {
        if (++invalid_requests_ > limits.max_invalid_requests)
            return {Answer::violation, "too many invalid requests"};
        return {Answer::reject, {}};
    }
    // Without the Fast extension, a request while choked is silently dropped (reject is a no-op).
    if (choking && !is_allowed_fast(static_cast<std::uint32_t>(block.piece)))
        return {Answer::reject, {}};
    if (queue_.size() >= limits.max_queued) {
        if (fast_extension) return {Answer::reject, {}};
        return {Answer::violation,
                "request flood: more than " + std::to_string(limits.max_queued) + " queued"};
    }
    if (pending(block)) return {Answer::reject, {}};  // one answer per request, even repeats
    queue_.push_back(block);
    pending_.insert(block);
    return {Answer::queued, {}};
}

bool UploadQueue::cancel(const BlockRef& block) {
    auto it = std::find(queue_.begin(), queue_.end(), block);
    if (it == queue_.end()) return false;
    queue_.erase(it);
    pending_.erase(block);
    return true;
}

std::vector<BlockRef> UploadQueue::on_choke(bool fast_extension) {
    auto kept = [&](const BlockRef& b) {
        return fast_extension && is_allowed_fast(static_cast<std::uint32_t>(b.piece));
    };
    std::vector<BlockRef> dropped;
    std::deque<BlockRef> keep_queued;
    for (const auto& b : queue_) {
        if (kept(b))
            keep_queued.push_back(b);
        else
            dropped.push_back(b);
    }
    queue_ = std::move(keep_queued);
    std::vector<BlockRef> keep_reading;  // reads dropped here are ignored when they finish
    for (const auto& b : reads_) {
        if (kept(b))
            keep_reading.push_back(b);
        else
            dropped.push_back(b);
    }
    reads_ = std::move(keep_reading);
    for (const auto& b : dropped) pending_.erase(b);
    return dropped;
}

std::optional<BlockRef> UploadQueue::next_read(bool socket_has_room, const Limits& limits) {
    if (queue_.empty() || reads_.size() >= limits.max_reads || !socket_has_room)
        return std::nullopt;
    BlockRef block = queue_.front();
    queue_.pop_front();
    reads_.push_back(block);
    return block;
}

bool UploadQueue::read_done(const BlockRef& block) {
    auto it = std::find(reads_.begin(), reads_.end(), block);
    if (it == reads_.end()) return false;
    reads_.erase(it);
    pending_.erase(block);
    return true;
}

bool UploadQueue::is_allowed_fast(std::uint32_t piece) const {
    return std::find(allowed_fast_.begin(), allowed_fast_.end(), piece) != allowed_fast_.end();
}

std::size_t UploadQueue::BlockHash::operator()(const BlockRef& b) const noexcept {
    auto key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(b.piece)) << 32) ^
               (static_cast<std::uint64_t>(static_cast<std::uint32_t>(b.offset)) << 1) ^
               static_cast<std::uint64_t>(static_cast<std::uint32_t>(b.length));
    return std::hash<std::uint64_t>{}(key);
}

}  // namespace btd
