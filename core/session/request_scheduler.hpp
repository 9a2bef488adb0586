#pragma once
// How many blocks a torrent asks one peer for: the pipeline depth follows the peer's rate, a
// peer that stops delivering is snubbed and asked for little, requests go out in batches, new
// pieces are opened only within the memory budget, and a choked peer is asked only for its
// allowed-fast pieces (BEP 6), and in endgame the duplicate requests that lost the race are
// cancelled. Which blocks (rarest first, endgame duplicates) is the picker's job
// (core/pieces/picker.hpp). No I/O, any thread; the caller passes `now` and sends the frames.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/peer/peer_state.hpp"
#include "core/pieces/picker.hpp"
#include "core/session/tuning.hpp"
#include "core/util/bitfield.hpp"

namespace btd::request_scheduler {

using Clock = std::chrono::steady_clock;

// Blocks to keep in flight to a peer delivering `download_rate` bytes/s: enough for
// tuning.request_queue_time, within [min_request_queue, min(max_request_queue, peer's reqq)].
int queue_target(std::int64_t download_rate, int peer_request_limit, const TorrentTuning& tuning);

// Blocks to request now with `outstanding` in flight; 0 while the gap is too small to be worth
// a send (requests go out in batches, not one per block received).
int blocks_to_request(int queue_target, int outstanding);

// New pieces the picker may open: as many as the free memory budget holds, at least one when no
// piece is in progress (so a torrent always makes progress).
int new_pieces_allowed(std::int64_t budget, std::int64_t in_use, std::int64_t piece_length,
                       bool none_in_progress);

// True if the oldest outstanding request (sent at `oldest_sent`) got no block for
// tuning.request_timeout, counting from the last block received.
bool snubbed(Clock::time_point now, Clock::time_point last_block, Clock::time_point oldest_sent,
             const TorrentTuning& tuning);

// The pieces a peer that chokes us lets us request: its allowed-fast pieces it has.
Bitfield allowed_while_choked(const Bitfield& peer_has,
                              const std::vector<std::uint32_t>& allowed_fast);

// Endgame: `block` arrived from one peer while `other` had been asked for it too (the picker
// names such peers in block_received). Forgets other's request and appends a CANCEL for it to
// `out`; false, with nothing appended, if `other` no longer waits for it (answered, rejected,
// dropped with a choke).
bool cancel_raced_request(PeerState& other, const BlockRef& block, std::string& out);

}  // namespace btd::request_scheduler
