#pragma once
// Local service discovery (BEP 14): BT-SEARCH announces over UDP multicast on the LAN.
// The codec and the announce schedule are pure (no sockets, the caller passes `now`);
// LsdService is the driver: one multicast socket on the network thread that announces what its
// owner lists and reports the peers it hears. Network thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/hash.hpp"

namespace btd::discovery {

inline constexpr std::string_view kLsdGroupV4 = "239.192.152.143";
inline constexpr std::uint16_t kLsdPort = 6771;

struct LsdMessage {
    std::uint16_t port = 0;             // the sender's BitTorrent listen port
    std::vector<Sha1Hash> info_hashes;  // the torrents it announces
    std::string cookie;                 // tells a sender its own announces apart (optional)
};

// "BT-SEARCH * HTTP/1.1" with Host, Port, one Infohash line per torrent (hex) and cookie.
std::string encode_lsd(const LsdMessage& message, std::string_view host = "239.192.152.143:6771");

// What we read from the LAN, where anyone can send anything; it also bounds the info-hashes
// of one datagram (a few dozen).
inline constexpr std::size_t kMaxLsdDatagram = 1400;

// nullopt unless the datagram is a BT-SEARCH request (at most kMaxLsdDatagram bytes) with a
// port in 1..65535 and at least one valid 40-hex Infohash. Header names are case-insensitive;
// malformed Infohash lines are skipped, repeated ones read once.
std::optional<LsdMessage> decode_lsd(std::string_view datagram);

// When each torrent is announced: at once when first listed, then every kReannounce; at most
// one datagram per kMinGap over all torrents (a LAN is shared, and BEP 14 asks for restraint).
class LsdSchedule {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds kReannounce{300};
    static constexpr std::chrono::milliseconds kMinGap{1000};

    // The torrent to announce now, if any, among `listed` (the active non-private torrents);
    // torrents no longer listed are forgotten. Records the announce.
    std::optional<Sha1Hash> next(const std::vector<Sha1Hash>& listed, Clock::time_point now);

  private:
    std::map<Sha1Hash, Clock::time_point> last_;
    std::optional<Clock::time_point> last_sent_;
};

// The driver. start() opens a UDP socket on kLsdPort (shared with other clients on the host),
// joins the IPv4 group and ticks once a second: each tick asks `listed()` for the torrents to
// announce and our listen port, sends at most one announce, and every announce heard from
// another client goes to `on_peer` (once per info-hash, inline on the network thread).
class LsdService {
  public:
    struct Listed {
        std::uint16_t listen_port = 0;
        std::vector<Sha1Hash> info_hashes;  // active, non-private torrents
    };
    using ListFn = std::function<Listed()>;
    using PeerFn = std::function<void(const Sha1Hash&, const boost::asio::ip::tcp::endpoint&)>;

    LsdService(boost::asio::io_context& io, ListFn listed, PeerFn on_peer);
    ~LsdService();
    // Errors (no multicast route, port unusable) are returned as a message; LSD is then off.
    std::optional<std::string> start();
    void stop();

  private:
    void receive();
    void on_datagram(std::size_t size);
    void tick();

    boost::asio::ip::udp::socket socket_;
    boost::asio::steady_timer timer_;
    ListFn listed_;
    PeerFn on_peer_;
    LsdSchedule schedule_;
    std::string cookie_;
    std::vector<char> buffer_ = std::vector<char>(kMaxLsdDatagram + 1);
    boost::asio::ip::udp::endpoint sender_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd::discovery
