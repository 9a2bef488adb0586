#pragma once
// Which block to request next: strict priority for started pieces, then rarest-first with a
// random tie-break; endgame mode when every missing block is already requested.
// Single-threaded (network thread). Peers are identified by an opaque key.
#include <cstdint>
#include <vector>

#include "core/util/bitfield.hpp"

namespace btd {

inline constexpr int kBlockSize = 16 * 1024;

struct BlockRef {
    int piece = 0;
    int offset = 0;  // bytes into the piece
    int length = 0;
    bool operator==(const BlockRef&) const = default;
};

using PeerKey = std::uintptr_t;

class PiecePicker {
public:
    PiecePicker(int num_pieces, std::int64_t piece_length, std::int64_t total_size);

    // Our own pieces.
    void we_have(int piece);                   // verified and written
    void piece_failed(int piece);              // hash failed: all its blocks become free again
    bool have(int piece) const;
    const Bitfield& have_bitfield() const;
    bool is_complete() const;

    // Availability in the swarm.
    void peer_has_bitfield(const Bitfield& bits);
    void peer_lost_bitfield(const Bitfield& bits);
    void peer_has_piece(int piece);
    int availability(int piece) const;

    // Up to `max_blocks` blocks this peer has that we still need. Started pieces first, then
    // rarest-first; at most `max_new_pieces` not-yet-started pieces may be opened by this call
    // (the caller's memory budget). In endgame, returns blocks already requested from other peers
    // (never twice from the same peer).
    std::vector<BlockRef> pick(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                               int max_new_pieces);

    // A request we made will not be answered (choke, reject, timeout, disconnect).
    void abort_request(const BlockRef& block, PeerKey peer);
    void abort_all(PeerKey peer);

    // A block arrived. Returns false if we did not want it (duplicate/unrequested). `others` gets
    // the peers that also had it requested (endgame: send them a cancel).
    bool block_received(const BlockRef& block, PeerKey peer, std::vector<PeerKey>& others);

    bool piece_fully_received(int piece) const;  // all blocks in; ready to hash
    bool in_endgame() const;
    int pieces_in_progress() const;  // started but not yet verified
    int block_count(int piece) const;
    int piece_size(int piece) const;

private:
    struct PieceState;
    // implementation detail, see picker.cpp
    int num_pieces_;
    std::int64_t piece_length_;
    std::int64_t total_size_;
    Bitfield have_;
    std::vector<int> availability_;
    std::vector<PieceState*> dummy_;  // replaced by the implementation
};

}  // namespace btd
