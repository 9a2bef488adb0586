#include "core/session/request_scheduler.hpp"

#include <algorithm>

#include "core/peer/wire.hpp"

namespace btd::request_scheduler {

int queue_target(std::int64_t download_rate, int peer_request_limit, const TorrentTuning& tuning) {
    auto target = download_rate * tuning.request_queue_time.count() / kBlockSize;
    // The peer's own limit wins even below min_request_queue: more would be dropped or rejected.
    std::int64_t ceiling = std::min(tuning.max_request_queue, peer_request_limit);
    return static_cast<int>(
        std::min<std::int64_t>(std::max<std::int64_t>(target, tuning.min_request_queue), ceiling));
}

int blocks_to_request(int queue_target, int outstanding) {
    int want = queue_target - outstanding;
    if (want < std::min(8, queue_target / 4 + 1) && outstanding > 0) return 0;
    return std::max(0, want);
}

int new_pieces_allowed(std::int64_t budget, std::int64_t in_use, std::int64_t piece_length,
                       bool none_in_progress) {
    int allowed = static_cast<int>(std::max<std::int64_t>(0, (budget - in_use) / piece_length));
    return none_in_progress ? std::max(allowed, 1) : allowed;
}

bool snubbed(Clock::time_point now, Clock::time_point last_block, Clock::time_point oldest_sent,
             const TorrentTuning& tuning) {
    return now - std::max(last_block, oldest_sent) > tuning.request_timeout;
}

Bitfield allowed_while_choked(const Bitfield& peer_has,
                              const std::vector<std::uint32_t>& allowed_fast) {
    Bitfield allowed(peer_has.size());
    for (auto piece : allowed_fast)
        if (piece < peer_has.size() && peer_has.test(piece)) allowed.set(piece);
    return allowed;
}

bool cancel_raced_request(PeerState& other, const BlockRef& block, std::string& out) {
    if (!other.remove_request(block)) return false;
    wire::append_request(out, wire::MsgType::cancel, block.piece, block.offset, block.length);
    return true;
}

}  // namespace btd::request_scheduler
