#include "core/session/peer_list.hpp"

#include <algorithm>

namespace btd {

std::string endpoint_string(const boost::asio::ip::tcp::endpoint& ep) {
    if (ep.address().is_v6())
        return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string PeerList::offender_key(const Endpoint& remote, const PeerId& peer_id) {
    if (!remote.address().is_loopback()) return remote.address().to_string();
    return remote.address().to_string() + "/" +
           to_hex(std::span<const std::uint8_t>(peer_id.data(), peer_id.size()));
}

void PeerList::add(const std::vector<Endpoint>& endpoints, PeerSource source) {
    std::optional<std::vector<Endpoint>> victims;  // worked out once, only when full
    for (const auto& ep : endpoints) {
        if (ep.port() == 0 || known_.contains(ep)) continue;
        if (known_.size() >= tuning_.max_known_peers) {
            if (!victims) victims = replaceable();
            if (victims->empty()) continue;
            known_.erase(victims->back());
            victims->pop_back();
        }
        known_[ep].source = source;
    }
}

std::vector<PeerList::Endpoint> PeerList::replaceable() const {
    std::vector<std::pair<int, Endpoint>> failed;
    for (const auto& [ep, info] : known_)
        if (!info.connected && !info.banned && info.failures > 0)
            failed.emplace_back(info.failures, ep);
    std::stable_sort(failed.begin(), failed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Endpoint> out;
    for (auto& [failures, ep] : failed) out.push_back(ep);
    return out;
}

std::optional<PeerSource> PeerList::source_of(const Endpoint& ep) const {
    auto it = known_.find(ep);
    if (it == known_.end()) return std::nullopt;
    return it->second.source;
}

std::vector<PeerList::Endpoint> PeerList::ready(Clock::time_point now) const {
    std::vector<Endpoint> out;
    for (const auto& [ep, info] : known_)
        if (!info.connected && !info.banned && info.next_attempt <= now) out.push_back(ep);
    return out;
}

void PeerList::mark_dialled(const Endpoint& ep) {
    known_[ep].connected = true;
}

void PeerList::mark_disconnected(const Endpoint& ep, Clock::time_point now) {
    auto it = known_.find(ep);
    if (it == known_.end()) return;
    it->second.connected = false;
    it->second.next_attempt = std::max(it->second.next_attempt, now + std::chrono::seconds(2));
}

void PeerList::on_handshake(const Endpoint& ep) {
    known_[ep].failures = 0;
}

void PeerList::ban_endpoint(const Endpoint& ep) {
    known_[ep].banned = true;
}

bool PeerList::endpoint_banned(const Endpoint& ep) const {
    auto it = known_.find(ep);
    return it != known_.end() && it->second.banned;
}

void PeerList::on_closed(const Endpoint& ep, Ending ending, Clock::time_point now) {
    auto& info = known_[ep];
    info.connected = false;
    if (ending == Ending::connected_to_self || ending == Ending::wrong_torrent) {
        info.banned = true;
    } else if (ending == Ending::ordinary) {
        // Back off from peers that fail; a peer that served us well may come back soon.
        info.next_attempt = now + peer_policy::redial_delay(++info.failures);
    }
}

// A violator is banned for a time that grows with each violation and is not reset by a clean
// handshake: by endpoint for dialling, by offender key for incoming connections.
std::optional<std::chrono::seconds> PeerList::record_violation(
    const std::string& offender, const std::optional<Endpoint>& dialled, Clock::time_point now) {
    std::optional<std::chrono::seconds> ban;
    if (!offender.empty()) ban = violators_.record(offender, now);  // refused incoming
    if (dialled) {  // and not dialled again before the ban ends
        auto& info = known_[*dialled];
        ban = peer_policy::violation_ban(++info.violations);
        if (ban)
            info.next_attempt = now + *ban;
        else
            info.banned = true;
    }
    return ban;
}

std::vector<std::string> PeerList::add_strikes(const std::vector<std::string>& contributors) {
    std::vector<std::string> newly_banned;
    for (const auto& key : contributors) {
        int& strikes = strikes_[key];
        strikes += contributors.size() == 1 ? 2 : 1;
        if (strikes >= tuning_.ban_strikes && banned_.insert(key).second)
            newly_banned.push_back(key);
    }
    return newly_banned;
}

}  // namespace btd
