#pragma once
// Peers that other nodes announced to us (announce_peer), handed out as get_peers "values".
// Bounded in every direction, since anyone may announce anything: a cap on info-hashes, on peers
// per info-hash and on the values in one reply, and entries expire unless re-announced (BEP 5
// nodes re-announce every 15 to 30 minutes). Pure: time is passed in. Network thread only.
#include <chrono>
#include <cstddef>
#include <map>
#include <vector>

#include "core/dht/node_id.hpp"

namespace btd::dht {

struct PeerStoreOptions {
    std::size_t max_torrents = 2000;
    std::size_t max_peers_per_torrent = 500;
    std::size_t max_values = 50;  // per reply; keeps a get_peers reply in one UDP datagram
    std::chrono::seconds lifetime{30 * 60};
};

class PeerStore {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    explicit PeerStore(PeerStoreOptions options = {}) : options_(options) {}

    // Records or refreshes `peer`. A full torrent forgets its oldest peer; a full store forgets
    // the torrent with the fewest peers (the cheapest loss).
    void announce(const NodeId& info_hash, const Endpoint& peer, TimePoint now);

    // Up to max_values live peers of one address family, most recently announced first.
    std::vector<Endpoint> peers(const NodeId& info_hash, bool ipv6, TimePoint now) const;

    void expire(TimePoint now);  // call now and then; peers() already skips expired entries
    std::size_t torrent_count() const { return torrents_.size(); }
    std::size_t peer_count(const NodeId& info_hash) const;

  private:
    using Peers = std::map<Endpoint, TimePoint>;  // peer -> last announce
    void make_room_for_torrent();

    PeerStoreOptions options_;
    std::map<NodeId, Peers> torrents_;
};

}  // namespace btd::dht
