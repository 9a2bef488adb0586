#pragma once
// What one peer asked us for and we accepted: requests waiting for a disk read, reads in flight,
// the allowed-fast pieces we serve even while choking it (BEP 6), and how many invalid requests
// it sent. Decides how each request, cancel and choke is answered; the owner sends the messages
// and does the reads. No I/O; network thread only. An entry is a block reference (no data: the
// bytes are read only when the socket has room), and lookups are hashed, so a queue of a few
// thousand requests costs little memory and no per-request scan.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/pieces/picker.hpp"

namespace btd {

class UploadQueue {
  public:
    struct Limits {
        std::size_t max_queued = 2000;  // what we announce as `reqq`
        std::size_t max_reads = 8;      // disk reads in flight
        int max_invalid_requests = 50;  // then the peer breaks the protocol
    };
    // How to answer a request.
    enum class Answer {
        queued,     // accepted: read it when the socket drains
        reject,     // refuse it (with the Fast extension; silently dropped without it)
        violation,  // the peer broke the protocol: disconnect it
    };
    struct Verdict {
        Answer answer;
        std::string reason;  // for a violation
    };

    // `valid`: in range and a piece we have. `choking`: we choke the peer now.
    Verdict on_request(const BlockRef& block, bool valid, bool choking, bool fast_extension,
                       const Limits& limits);
    // True if the block was still queued (it is dropped; with the Fast extension it is rejected).
    bool cancel(const BlockRef& block);
    // We choke the peer: every queued request and read in flight is dropped, except for
    // allowed-fast pieces with the Fast extension. Returns the dropped blocks (to reject).
    std::vector<BlockRef> on_choke(bool fast_extension);
    // The next block to read from disk, if reads are below the limit and the socket has
    // room; it counts as in flight until read_done().
    std::optional<BlockRef> next_read(bool socket_has_room, const Limits& limits);
    // A read finished; false if it was cancelled or choked meanwhile (then it is not sent).
    bool read_done(const BlockRef& block);

    void set_allowed_fast(std::vector<std::uint32_t> pieces) { allowed_fast_ = std::move(pieces); }
    const std::vector<std::uint32_t>& allowed_fast() const { return allowed_fast_; }
    bool is_allowed_fast(std::uint32_t piece) const;
    std::size_t queued() const { return queue_.size(); }
    std::size_t reads_in_flight() const { return reads_.size(); }

  private:
    struct BlockHash {
        std::size_t operator()(const BlockRef& b) const noexcept;
    };
    bool pending(const BlockRef& block) const { return pending_.count(block) != 0; }

    std::deque<BlockRef> queue_;                       // accepted, in order
    std::vector<BlockRef> reads_;                      // being read from disk
    std::unordered_set<BlockRef, BlockHash> pending_;  // queue_ and reads_ together
    std::vector<std::uint32_t> allowed_fast_;
    int invalid_requests_ = 0;
};

}  // namespace btd
