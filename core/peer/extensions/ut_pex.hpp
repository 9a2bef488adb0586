#pragma once
// BEP 11 peer exchange (ut_pex over BEP 10): the message codec and PexTracker, which works out
// what to tell one peer about our connected set since the last message it got. Pure: no sockets,
// no clock (the caller sends at most once per 60 s per peer and never for private torrents).
// Network thread only.
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/peer/wire.hpp"

namespace btd::wire {

inline constexpr std::string_view kUtPex = "ut_pex";  // name in the handshake's "m"
// The id we give ut_pex in our handshake (libtorrent uses 1 too): peers send ut_pex under it.
inline constexpr std::uint8_t kUtPexLocalId = 1;

// Flags, one byte per added peer ("added.f", "added6.f").
namespace pex_flags {
inline constexpr std::uint8_t kPrefersEncryption = 0x01;
inline constexpr std::uint8_t kSeed = 0x02;  // upload only
inline constexpr std::uint8_t kSupportsUtp = 0x04;
inline constexpr std::uint8_t kSupportsHolepunch = 0x08;
inline constexpr std::uint8_t kReachable = 0x10;  // we connected to it: it accepts connections
}  // namespace pex_flags

struct PexPeer {
    boost::asio::ip::tcp::endpoint endpoint;
    std::uint8_t flags = 0;
    friend bool operator==(const PexPeer&, const PexPeer&) = default;
};

struct PexMessage {
    std::vector<PexPeer> added;  // IPv4 and IPv6 together; the encoder splits them
    std::vector<boost::asio::ip::tcp::endpoint> dropped;
    bool empty() const { return added.empty() && dropped.empty(); }
};

// The convention between clients is at most 50 added and 50 dropped per message (IPv4 and IPv6
// together); we send no more, and accept up to these generous limits before calling it abuse.
inline constexpr std::size_t kPexSendLimit = 50;
struct PexLimits {
    std::size_t max_added = 200;
    std::size_t max_dropped = 200;
};

std::string encode_pex(const PexMessage& message);

// Throws ProtocolError (the caller drops or ignores the peer) if the payload is not a bencoded
// dict, a peer list is not a string whose length is a multiple of 6 (IPv4) or 18 (IPv6), or a
// list is over its limit. Entries with port 0 are skipped. A flags string whose length does not
// match its list is ignored (flags 0), as other clients do.
PexMessage decode_pex(std::string_view payload, const PexLimits& limits = {});

// What one remote peer has been told. update() is given our current connected set and returns
// the difference since the previous call: new peers as added, vanished ones as dropped, each
// capped at kPexSendLimit (the rest wait for the next call). The remote itself is never listed.
class PexTracker {
  public:
    explicit PexTracker(boost::asio::ip::tcp::endpoint remote) : remote_(std::move(remote)) {}

    PexMessage update(const std::vector<PexPeer>& connected);
    std::size_t advertised_count() const { return advertised_.size(); }

  private:
    boost::asio::ip::tcp::endpoint remote_;
    std::map<boost::asio::ip::tcp::endpoint, std::uint8_t> advertised_;  // told as added
};

}  // namespace btd::wire
