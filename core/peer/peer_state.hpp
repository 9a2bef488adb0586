#pragma once
// One peer's protocol state as its owner (Torrent) sees it: choking and interest both ways, the
// pieces the peer has, our outstanding requests, the allowed-fast pieces both ways, what it asked
// us for, transfer counters, its client name and our verdict on it (snubbed, optimistic slot).
// PeerConnection carries one for its owner and never reads it. No I/O; network thread only.
// Setters that map to a wire message return whether the state changed, so the owner sends the
// message only then.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/peer/extension.hpp"
#include "core/peer/upload_queue.hpp"
#include "core/pieces/picker.hpp"
#include "core/util/bitfield.hpp"
#include "core/util/hash.hpp"
#include "core/util/rate_meter.hpp"

namespace btd {

class PeerState {
  public:
    using Clock = std::chrono::steady_clock;
    struct Request {
        BlockRef block;
        Clock::time_point sent;
    };

    PeerState() = default;
    // A fresh state for a peer of a torrent with `num_pieces` pieces: both sides choke, neither
    // is interested, the peer has nothing. `key` names it to the picker.
    PeerState(PeerKey key, int num_pieces, Clock::time_point now);

    PeerKey key() const { return key_; }

    // ---- choking and interest ----
    bool am_choking() const { return am_choking_; }
    bool am_interested() const { return am_interested_; }
    bool peer_choking() const { return peer_choking_; }
    bool peer_interested() const { return peer_interested_; }
    // Choking gives up the optimistic slot; unchoking is remembered for the choker.
    bool set_am_choking(bool choke, Clock::time_point now);
    bool set_am_interested(bool interested);
    void set_peer_choking(bool choking) { peer_choking_ = choking; }
    void set_peer_interested(bool interested) {
        peer_interested_ = interested;
        peer_interest_known_ = true;
    }
    // False until the peer's first interested or not_interested message.
    bool peer_interest_known() const { return peer_interest_known_; }
    bool optimistic() const { return optimistic_; }
    void set_optimistic(bool on) { optimistic_ = on; }
    Clock::time_point last_unchoked() const { return last_unchoked_; }

    // ---- what the peer has ----
    const Bitfield& pieces() const { return pieces_; }
    bool is_seed() const { return has_all_ || pieces_.all(); }  // have_all or a full bitfield
    // False if the piece was known already. The caller checks the range first.
    bool add_piece(std::uint32_t piece);
    // A bitfield or have_all/have_none; returns the one it replaces (for the picker's counts).
    Bitfield replace_pieces(Bitfield pieces, bool has_all);

    // ---- our requests to the peer, oldest first ----
    const std::deque<Request>& requests() const { return requests_; }
    void add_request(const BlockRef& block, Clock::time_point sent);
    bool remove_request(const BlockRef& block);  // false if it was not outstanding
    // A reject names piece and offset; returns the request it ends, if outstanding.
    std::optional<BlockRef> take_request(int piece, int offset);
    void clear_requests() { requests_.clear(); }
    int queue_target() const { return queue_target_; }  // pipeline depth we aim for
    void set_queue_target(int blocks) { queue_target_ = blocks; }
    int request_limit() const { return request_limit_; }  // the peer's `reqq` (BEP 10)

    // Pieces it lets us request while it chokes us (BEP 6), at most `max` of them.
    const std::vector<std::uint32_t>& allowed_fast_in() const { return allowed_fast_in_; }
    void add_allowed_fast_in(std::uint32_t piece, std::size_t max);

    // ---- what it asked us for ----
    UploadQueue& uploads() { return uploads_; }
    const UploadQueue& uploads() const { return uploads_; }

    // ---- transfer ----
    // A requested block arrived: the peer delivers, so it is no longer snubbed.
    void on_block_received(Clock::time_point now);
    void add_downloaded(std::int64_t bytes) { download_.add(bytes); }
    void add_uploaded(std::int64_t bytes, Clock::time_point now);
    void tick();  // once per second: closes the rate meters' bucket
    const RateMeter& download() const { return download_; }  // payload from the peer
    const RateMeter& upload() const { return upload_; }      // payload to the peer
    Clock::time_point last_block() const { return last_block_; }
    Clock::time_point last_upload() const { return last_upload_; }
    bool snubbed() const { return snubbed_; }
    void snub() { snubbed_ = true; }  // stopped delivering: ask it for very little

    // ---- who it is ----
    const std::string& client() const { return client_; }
    void set_client_from_peer_id(const PeerId& id);
    // BEP 10: `v` names the client (it wins over the peer id), `reqq` its request queue.
    void on_extension_handshake(const wire::ExtensionHandshake& ext);
    // The id the peer gave ut_metadata (BEP 9) in its extension handshake; 0 = not supported.
    int ut_metadata_id() const { return ut_metadata_id_; }
    const std::string& offender() const { return offender_; }  // whom strikes and bans count
    void set_offender(std::string key) { offender_ = std::move(key); }

    // The flags documented for torrent.get's peers (rpc/README.md): D we download from it,
    // U we upload to it, c it chokes us, i we are interested, s it is snubbed, O it holds the
    // optimistic slot.
    std::string flags() const;

  private:
    PeerKey key_;
    bool am_choking_ = true;
    bool am_interested_ = false;
    bool peer_choking_ = true;
    bool peer_interested_ = false;
    bool peer_interest_known_ = false;
    bool optimistic_ = false;
    bool snubbed_ = false;
    bool has_all_ = false;
    Bitfield pieces_;
    std::deque<Request> requests_;
    int queue_target_ = 16;
    int request_limit_ = 250;
    std::vector<std::uint32_t> allowed_fast_in_;
    UploadQueue uploads_;
    RateMeter download_;
    RateMeter upload_;
    Clock::time_point last_unchoked_{};
    Clock::time_point last_upload_{};
    Clock::time_point last_block_{};
    std::string client_;
    std::string offender_;
    int ut_metadata_id_ = 0;
};

}  // namespace btd
