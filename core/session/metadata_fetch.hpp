#pragma once
// Which metadata pieces (BEP 9) to ask which peer for, and what a peer's answer means: the
// decisions of a magnet's MetadataJob without sockets or timers, so they can be tested alone.
// Peers are named by a caller-chosen key. Network thread only (or any one thread).
//
// The info dictionary's size comes from the peers' extension handshakes; the first peer that
// is asked decides it, and peers that claim another size wait until that attempt failed.
// A piece that fails the SHA-1 check alone condemns its only sender; a mixed attempt names its
// liars once a later attempt verifies (MetadataAssembler::bad_peers).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/peer/extensions/ut_metadata.hpp"
#include "core/util/hash.hpp"

namespace btd {

// Why a connected peer should be dropped as silent, or nothing. A peer that sent no message at
// all (a keep-alive counts) for kSilentPeerTimeout, or no extension handshake within
// kExtensionHandshakeTimeout of the BitTorrent one, only holds one of the few slots of a
// metadata job (libtorrent and Transmission send both handshakes at once).
inline constexpr std::chrono::seconds kSilentPeerTimeout{30};
inline constexpr std::chrono::seconds kExtensionHandshakeTimeout{10};
std::optional<std::string> silent_peer_reason(std::chrono::steady_clock::time_point now,
                                              std::chrono::steady_clock::time_point handshake_at,
                                              std::chrono::steady_clock::time_point last_message,
                                              bool extension_handshake_seen);

class MetadataFetch {
  public:
    using PeerKey = std::uint64_t;
    using Clock = std::chrono::steady_clock;

    static constexpr std::size_t kMaxRequestsPerPeer = 2;
    static constexpr std::chrono::seconds kRequestTimeout{20};

    explicit MetadataFetch(const Sha1Hash& info_hash) : info_hash_(info_hash) {}

    // A peer that offers ut_metadata with an info dictionary of `size` bytes (range-checked
    // by the caller with wire::handshake_metadata_size).
    void add_peer(PeerKey peer, std::int64_t size);
    // Its outstanding pieces go back to the pool. Unknown peers are ignored.
    void remove_peer(PeerKey peer);
    bool has_peer(PeerKey peer) const { return peers_.count(peer) > 0; }

    // Pieces to request from `peer` now; they count as in flight from then on.
    std::vector<std::uint32_t> requests_for(PeerKey peer, Clock::time_point now);

    struct Answer {
        std::optional<std::string> metadata;  // the verified info dictionary: done
        std::vector<PeerKey> ban;             // sent bad or mismatched data: drop and ban
        std::string reason;                   // why they are banned, for the log
    };
    // A data message from `peer`. Unrequested pieces are ignored (a late answer after a
    // timeout); a piece of the wrong size or total size bans the sender at once.
    Answer on_data(PeerKey peer, const wire::MetadataMessage& msg);
    // The peer has no metadata to give (it rejected a request): it is asked no more.
    void on_reject(PeerKey peer);
    // Peers that left a request unanswered for kRequestTimeout: the caller drops them.
    std::vector<PeerKey> timed_out(Clock::time_point now) const;

    std::int64_t size() const { return assembler_ ? assembler_->total_size() : 0; }
    std::uint32_t pieces_have() const;
    double progress() const;  // 0..1 of the pieces of the size being tried; 0 before any

  private:
    struct Peer {
        std::int64_t size = 0;
        std::map<std::uint32_t, Clock::time_point> in_flight;  // piece -> when asked
    };
    std::set<std::uint32_t> all_in_flight() const;
    Answer verify();
    // After a failed attempt with no peer left that claims its size, start over with the
    // size of another peer.
    void forget_size_if_unclaimed();

    Sha1Hash info_hash_;
    std::map<PeerKey, Peer> peers_;
    std::optional<wire::MetadataAssembler> assembler_;
    std::set<PeerKey> banned_;
};

}  // namespace btd
