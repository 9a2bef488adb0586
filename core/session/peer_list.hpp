#pragma once
// One torrent's peer list: the candidates every source reported (trackers today; DHT, PEX and LSD
// feed the same list), when each may be dialled again (back-off after failures, timed bans for
// protocol violators) and who is banned for good (ourselves, a wrong torrent, bad data). No
// sockets and no clock of its own: the caller passes `now`. Network thread only.
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/session/peer_policy.hpp"
#include "core/session/tuning.hpp"
#include "core/session/types.hpp"
#include "core/util/hash.hpp"

namespace btd {

// "1.2.3.4:5" or "[::1]:5", for logs and peer lists.
std::string endpoint_string(const boost::asio::ip::tcp::endpoint& ep);

class PeerList {
  public:
    using Endpoint = boost::asio::ip::tcp::endpoint;
    using Clock = std::chrono::steady_clock;

    // Why a connection to a listed peer ended, as far as redialling is concerned.
    enum class Ending { ordinary, protocol_violation, connected_to_self, wrong_torrent };

    explicit PeerList(const TorrentTuning& tuning) : tuning_(tuning) {}

    // Who a peer is for strikes and bans: its IP address, or on loopback, where every local
    // client shares one address, its peer id. A reconnect from a new port is the same offender.
    static std::string offender_key(const Endpoint& remote, const PeerId& peer_id);

    // New candidates (port 0 ignored), one entry per endpoint whichever sources name it; a peer
    // already listed keeps the source that named it first. At tuning.max_known_peers a new
    // candidate takes the place of the one that failed most (never of a peer that has not
    // failed, is connected or banned: those are worth more than one never tried); else it is
    // left out.
    void add(const std::vector<Endpoint>& endpoints, PeerSource source);
    std::optional<PeerSource> source_of(const Endpoint& ep) const;
    // Listed peers that may be dialled now (not connected, not banned, back-off over), in a
    // stable order.
    std::vector<Endpoint> ready(Clock::time_point now) const;
    void mark_dialled(const Endpoint& ep);  // connected until on_closed()
    // Dropped by us (pause, a move): no back-off, but not redialled within 2 s either, since
    // libtorrent 2.0.8 peers were seen to die when the same peer came straight back.
    void mark_disconnected(const Endpoint& ep, Clock::time_point now);
    void on_handshake(const Endpoint& ep);  // a clean handshake ends the failure streak
    void ban_endpoint(const Endpoint& ep);  // never dial it again
    bool endpoint_banned(const Endpoint& ep) const;
    // An outgoing connection ended: back off after ordinary failures, ban for good after
    // ourselves or a wrong torrent. Violations are counted by record_violation() first.
    void on_closed(const Endpoint& ep, Ending ending, Clock::time_point now);

    // A protocol violation by `offender` (may be empty: not identified yet); `dialled` is the
    // endpoint if we dialled it. Returns the ban: the endpoint's if dialled, else the offender's
    // (nullopt = for good).
    std::optional<std::chrono::seconds> record_violation(const std::string& offender,
                                                         const std::optional<Endpoint>& dialled,
                                                         Clock::time_point now);
    bool violator_banned(const std::string& offender, Clock::time_point now) const {
        return violators_.banned(offender, now);
    }
    // A piece failed its hash check; each contributor gets a strike (two if it sent the piece
    // alone). Returns the offenders banned by this piece, each once.
    std::vector<std::string> add_strikes(const std::vector<std::string>& contributors);
    bool bad_data_banned(const std::string& offender) const { return banned_.count(offender) > 0; }

    std::size_t size() const { return known_.size(); }

  private:
    // Listed peers a new candidate may replace, the one to drop first at the back.
    std::vector<Endpoint> replaceable() const;

    struct KnownPeer {
        Clock::time_point next_attempt{};
        int failures = 0;    // ordinary failures in a row; a clean handshake resets it
        int violations = 0;  // protocol violations, never reset: the ban grows with each
        bool connected = false;
        bool banned = false;  // never dial again (ourselves, wrong torrent, sent bad data)
        PeerSource source = PeerSource::tracker;
    };

    const TorrentTuning& tuning_;
    std::map<Endpoint, KnownPeer> known_;
    std::map<std::string, int> strikes_;   // bad pieces each offender took part in
    std::set<std::string> banned_;         // offenders that sent bad data
    peer_policy::ViolatorBans violators_;  // protocol violators, banned for a growing time
};

}  // namespace btd
