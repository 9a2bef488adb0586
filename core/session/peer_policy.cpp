#include "core/session/peer_policy.hpp"

#include <algorithm>

namespace btd::peer_policy {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr auto kFirstRedialDelay = 10s;
constexpr auto kMaxRedialDelay = 300s;
constexpr auto kFirstViolationBan = 30s;
// Outgoing slots kept free of incoming peers: a tenth of the slots, at least 2.
constexpr int kReservedOutgoingShare = 10;
constexpr int kMinReservedOutgoing = 2;
}  // namespace

asio::ip::address address_group(const asio::ip::address& address) {
    if (!address.is_v6() || address.is_loopback()) return address;
    auto v6 = address.to_v6();
    if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6);
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return asio::ip::address_v6(bytes);
}

int per_address_limit(const asio::ip::address& address, const SessionSettings& settings) {
    if (!address.is_loopback()) return settings.max_peers_per_address;
    return std::max(settings.max_peers_per_address, settings.max_peers_per_torrent / 2);
}

int incoming_slot_limit(int max_peers) {
    int reserved = std::max(kMinReservedOutgoing, max_peers / kReservedOutgoingShare);
    return std::max(1, max_peers - reserved);
}

std::chrono::seconds redial_delay(int failures) {
    int doublings = std::clamp(failures - 1, 0, 10);
    return std::min<std::chrono::seconds>(kMaxRedialDelay, kFirstRedialDelay * (1 << doublings));
}

std::optional<std::chrono::seconds> violation_ban(int violations) {
    if (violations >= kPermanentViolations) return std::nullopt;
    return kFirstViolationBan * (1 << std::max(0, violations - 1));
}

std::optional<std::chrono::seconds> ViolatorBans::record(const std::string& key,
                                                         Clock::time_point now) {
    if (!entries_.count(key) && entries_.size() >= kMaxEntries) {
        auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
            return a.second.last < b.second.last;
        });
        entries_.erase(oldest);
    }
    auto& entry = entries_[key];
    entry.last = now;
    auto ban = violation_ban(++entry.violations);
    entry.until = ban ? std::optional(now + *ban) : std::nullopt;
    return ban;
}

bool ViolatorBans::banned(const std::string& key, Clock::time_point now) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    return !it->second.until || now < *it->second.until;
}

}  // namespace btd::peer_policy
