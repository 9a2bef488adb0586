#include "core/dht/peer_store.hpp"

#include <algorithm>

namespace btd::dht {

void PeerStore::announce(const NodeId& info_hash, const Endpoint& peer, TimePoint now) {
    auto it = torrents_.find(info_hash);
    if (it == torrents_.end()) {
        make_room_for_torrent();
        it = torrents_.emplace(info_hash, Peers{}).first;
    }
    Peers& peers = it->second;
    if (!peers.contains(peer) && peers.size() >= options_.max_peers_per_torrent) {
        auto oldest =
            std::min_element(peers.begin(), peers.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        peers.erase(oldest);
    }
    peers[peer] = now;
}

void PeerStore::make_room_for_torrent() {
    if (torrents_.size() < options_.max_torrents || torrents_.empty()) return;
    auto smallest = std::min_element(
        torrents_.begin(), torrents_.end(),
        [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
    torrents_.erase(smallest);
}

std::vector<Endpoint> PeerStore::peers(const NodeId& info_hash, bool ipv6, TimePoint now) const {
    std::vector<std::pair<TimePoint, Endpoint>> live;
    auto it = torrents_.find(info_hash);
    if (it == torrents_.end()) return {};
    for (const auto& [peer, seen] : it->second)
        if (peer.address().is_v6() == ipv6 && now - seen < options_.lifetime)
            live.emplace_back(seen, peer);
    std::sort(live.begin(), live.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<Endpoint> out;
    for (std::size_t i = 0; i < live.size() && i < options_.max_values; ++i)
        out.push_back(live[i].second);
    return out;
}

void PeerStore::expire(TimePoint now) {
    for (auto it = torrents_.begin(); it != torrents_.end();) {
        std::erase_if(it->second,
                      [&](const auto& p) { return now - p.second >= options_.lifetime; });
        it = it->second.empty() ? torrents_.erase(it) : std::next(it);
    }
}

std::size_t PeerStore::peer_count(const NodeId& info_hash) const {
    auto it = torrents_.find(info_hash);
    return it == torrents_.end() ? 0 : it->second.size();
}

}  // namespace btd::dht
