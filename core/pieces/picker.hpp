#pragma once
// Which block to request next: strict priority for started pieces, then rarest-first with a
// random tie-break (or lowest index first in sequential mode); endgame mode when every missing
// block is already requested. Piece priorities (0 = skip, 1..7, higher first) come before
// everything else; a skipped piece is never opened, though one already started is finished.
// Single-threaded (network thread). Peers are identified by an opaque key.
//
// Memory: a picker that nobody downloads through (a paused, finished or peerless torrent) holds
// only the have and wanted bitfields, plus one priority byte per piece when they are not all
// the default. The swarm state (availability, buckets, started pieces: about 16 bytes a piece)
// is built on the first peer bitfield/have or pick, and given back by release_idle_state().
//
// Complexity (n = pieces, k = pieces in progress, b = blocks per piece):
//   have/lost piece, we_have, piece_failed, availability changes: O(1) (+O(b) to reset a piece)
//   peer_has_bitfield / peer_lost_bitfield: O(n)
//   pick: O(k log k + k*b) for started pieces; new pieces: a walk over the availability buckets
//         (per priority) that stops as soon as enough pieces are found, or, for a peer holding
//         fewer than 1/8 of the pieces we still need, a scan of its bitfield (O(n/8 + its
//         pieces)); sequential mode scans from the lowest wanted missing piece; endgame adds
//         O(k*b).
//   set_piece_priorities: O(n).
//   building the swarm state (first peer or pick after it was released): O(n).
//   abort_all: O(k*b); block_received / abort_request: O(requesters of that block).
#include <cstdint>
#include <random>
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

// Names one peer connection to the picker: its owner hands out a fresh value per connection, so a
// key never outlives or aliases another connection (unlike an address that could be reused).
// A number converts to a key (owners count them out); a pointer does not.
struct PeerKey {
    constexpr PeerKey(std::uint64_t value = 0) : id(value) {}
    std::uint64_t id;
    auto operator<=>(const PeerKey&) const = default;
};

// Priorities of pieces and files, as in libtorrent: 0 = do not download, 1 = low, 4 = normal,
// 7 = high.
inline constexpr int kPriorityDontDownload = 0;
inline constexpr int kPriorityDefault = 4;
inline constexpr int kPriorityMax = 7;

// A different seed at each call: one std::random_device per process, then a counter. (A
// random_device per picker cost about 20 us each in a VM, 0.2 s for 10,000 restored torrents.)
std::uint32_t next_picker_seed();

class PiecePicker {
  public:
    // `seed` makes the random tie-break reproducible in tests.
    PiecePicker(int num_pieces, std::int64_t piece_length, std::int64_t total_size,
                std::uint32_t seed = next_picker_seed());

    // Our own pieces.
    void we_have(int piece);       // verified and written
    void piece_failed(int piece);  // hash failed: all its blocks become free again
    bool have(int piece) const;
    const Bitfield& have_bitfield() const;
    bool is_complete() const;                                  // every piece
    bool is_finished() const { return missing_wanted_ == 0; }  // every piece not skipped
    int num_have() const { return static_cast<int>(have_.count()); }

    // One priority per piece (0..kPriorityMax; larger values are clamped). False, and nothing
    // changes, if the size is wrong.
    bool set_piece_priorities(const std::vector<std::uint8_t>& priorities);
    int priority(int piece) const { return valid_piece(piece) ? priority_of(piece) : 0; }
    bool wants(int piece) const { return priority(piece) > 0 && !have(piece); }
    // Sequential: new pieces in index order (within a priority) instead of rarest first.
    void set_sequential(bool on) { sequential_ = on; }
    bool sequential() const { return sequential_; }

    // Availability in the swarm.
    void peer_has_bitfield(const Bitfield& bits);
    void peer_lost_bitfield(const Bitfield& bits);
    void peer_has_piece(int piece);
    void peer_lost_piece(int piece);
    int availability(int piece) const;
    // True if the peer has at least one wanted piece we do not have (-> interested). O(n/8).
    bool is_interesting(const Bitfield& peer_has) const;

    // Up to `max_blocks` blocks this peer has that we still need. Started pieces first (those
    // closest to completion first), then rarest-first; at most `max_new_pieces` not-yet-started
    // pieces may be opened by this call (the caller's memory budget). In endgame, returns blocks
    // already requested from other peers (never twice from the same peer).
    std::vector<BlockRef> pick(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                               int max_new_pieces);

    // A request we made will not be answered (choke, reject, timeout, disconnect).
    // A started piece left with no requested and no received block is un-started again: it
    // holds nothing worth keeping, so the caller gives its buffer back (the piece may be opened
    // again later, counted against the budget anew). abort_request returns true if it
    // un-started the block's piece; abort_all returns the pieces it un-started. A started piece
    // that keeps received blocks stays started, and pick() offers its free blocks to any peer
    // that has it before it opens new pieces, whatever max_new_pieces is.
    bool abort_request(const BlockRef& block, PeerKey peer);
    std::vector<int> abort_all(PeerKey peer);

    // A block arrived. Returns false if we did not want it: duplicate, not a valid block, or its
    // piece is not in progress. A block of a started piece that is still missing is accepted even
    // if our request for it was aborted (a late answer is still useful data). `others` gets the
    // peers that also had it requested (endgame: send them a cancel).
    bool block_received(const BlockRef& block, PeerKey peer, std::vector<PeerKey>& others);

    bool piece_fully_received(int piece) const;  // all blocks in; ready to hash
    bool in_endgame() const;
    int pieces_in_progress() const;  // started but not yet verified
    int block_count(int piece) const;
    int piece_size(int piece) const;

    // Gives back the swarm state if nothing needs it: no piece started and no availability
    // counted (every peer's bitfield and haves taken back). Returns false, and keeps it, if
    // something does. Nothing observable changes: it is rebuilt from have/priorities on demand.
    bool release_idle_state();
    bool holds_swarm_state() const { return swarm_built_; }

  private:
    struct Block {
        std::vector<PeerKey> requested_by;  // empty = nobody asked (free unless received)
        bool received = false;
    };
    struct PieceState {
        int piece = 0;
        int free = 0;      // neither requested nor received
        int received = 0;  // blocks in
        std::vector<Block> blocks;
    };

    bool valid_piece(int piece) const { return piece >= 0 && piece < num_pieces_; }
    int priority_of(int piece) const {
        return priority_.empty() ? kPriorityDefault : priority_[piece];
    }
    void build_swarm_state();
    PieceState* downloading(int piece);
    const PieceState* downloading(int piece) const;
    PieceState& start_piece(int piece);
    void stop_piece(int piece);  // drop progress, back to the availability buckets
    void release_request(PieceState& ps, Block& block, PeerKey peer);  // if `peer` asked for it
    bool stop_if_untouched(PieceState& ps);  // un-starts it if nothing is requested or in
    void bucket_insert(int piece);
    void bucket_remove(int piece);
    void change_availability(int piece, int delta);
    void take_free_blocks(PieceState& ps, PeerKey peer, int max_blocks, std::vector<BlockRef>& out);
    void open_from_buckets(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                           int max_new_pieces, std::vector<BlockRef>& out);
    int find_in_buckets(const Bitfield& peer_has, const std::vector<std::vector<int>>& levels,
                        std::size_t& level);
    void open_sequential(const Bitfield& peer_has, PeerKey peer, int max_blocks, int max_new_pieces,
                         std::vector<BlockRef>& out);
    void open_from_sparse_peer(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                               int max_new_pieces, std::vector<BlockRef>& out);
    void add_endgame_blocks(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                            std::vector<BlockRef>& out);
    BlockRef block_ref(int piece, int block) const;

    int num_pieces_;
    std::int64_t piece_length_;
    std::int64_t total_size_;
    Bitfield have_;
    Bitfield wanted_;  // priority > 0
    int missing_wanted_ = 0;
    std::vector<std::uint8_t> priority_;  // empty = every piece kPriorityDefault
    // The swarm state below is empty unless swarm_built_ (see "Memory" above).
    bool swarm_built_ = false;
    std::vector<int> availability_;
    // Wanted pieces neither had nor started, bucketed by [priority][availability]; bucket_pos_ =
    // index in its bucket or -1 when the piece is not in any bucket.
    std::vector<std::vector<std::vector<int>>> buckets_;
    std::vector<int> bucket_pos_;
    std::vector<int> bucketed_by_priority_;
    int bucketed_count_ = 0;
    bool sequential_ = false;
    int sequential_cursor_ = 0;  // no bucketed piece has a lower index
    // Started pieces; download_pos_ maps a piece to its index in downloading_ (-1 if none).
    std::vector<PieceState> downloading_;
    std::vector<int> download_pos_;
    int free_in_started_ = 0;  // free blocks over all started pieces
    std::minstd_rand rng_;     // 8 bytes, not mt19937's 5 KB: one picker per loaded torrent
};

}  // namespace btd
