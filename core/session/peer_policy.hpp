#pragma once
// Pure rules for a torrent's peer list, kept apart from the sockets so they can be tested alone:
// how many connections one address may hold, how many slots incoming peers may fill, how long to
// wait before dialling a peer again, and how long a protocol violator stays banned.
// No I/O, no clock of its own (the caller passes `now`); any thread.
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "core/session/types.hpp"

namespace btd::peer_policy {

using Clock = std::chrono::steady_clock;

// What a per-address limit counts against: an IPv4 address as is, an IPv6 address by its /64
// (one subscriber usually gets a whole /64, so counting single addresses would not limit it).
boost::asio::ip::address address_group(const boost::asio::ip::address& address);

// Connections one torrent accepts or dials to one address group. Loopback gets a larger share
// (half the torrent's slots): every local client and test peer shares 127.0.0.1, yet one local
// address still cannot take every slot.
int per_address_limit(const boost::asio::ip::address& address, const SessionSettings& settings);

// Slots of a torrent that incoming connections may fill; the rest stay free so that dialling a
// new candidate is always possible, whoever connects to us.
int incoming_slot_limit(int max_peers);

// Delay before redialling a peer after `failures` (>= 1) ordinary failures in a row: 10 s,
// doubling, at most 5 min. A clean handshake resets `failures`.
std::chrono::seconds redial_delay(int failures);

// How long a peer stays banned after its `violations`-th (>= 1) protocol violation: 30 s,
// doubling per violation; nullopt (forever) from kPermanentViolations on. Never reset by a clean
// handshake: a peer that handshakes well and then breaks the protocol is not a new peer.
std::optional<std::chrono::seconds> violation_ban(int violations);
constexpr int kPermanentViolations = 8;  // 30 s * 2^6 = 32 min is the longest timed ban

// Timed bans of protocol violators, keyed by offender key (see Torrent::offender_key), so an
// incoming violator is refused as well as dialled ones. Bounded: the oldest entries go first.
class ViolatorBans {
  public:
    // Counts one violation; returns the new ban (nullopt = forever).
    std::optional<std::chrono::seconds> record(const std::string& key, Clock::time_point now);
    bool banned(const std::string& key, Clock::time_point now) const;
    std::size_t size() const { return entries_.size(); }
    static constexpr std::size_t kMaxEntries = 1000;  // a flood of keys must not grow memory

  private:
    struct Entry {
        int violations = 0;
        std::optional<Clock::time_point> until;  // nullopt: forever
        Clock::time_point last{};
    };
    std::map<std::string, Entry> entries_;
};

}  // namespace btd::peer_policy
