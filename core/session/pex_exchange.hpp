#pragma once
// One torrent's peer exchange (BEP 11 ut_pex): which connected peers speak it and under which
// message id, where each one listens, what each was told (wire::PexTracker) and when, and the
// rate limits both ways. Pure: no sockets and no clock of its own (the caller passes `now` and
// sends what due() returns). A Torrent of a private torrent (BEP 27) never offers ut_pex and
// never asks this for anything. Network thread only.
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/peer/extension.hpp"
#include "core/peer/extensions/ut_pex.hpp"
#include "core/pieces/picker.hpp"

namespace btd {

class PexExchange {
  public:
    using Endpoint = boost::asio::ip::tcp::endpoint;
    using Clock = std::chrono::steady_clock;

    // At most one message to a peer per minute: libtorrent disconnects a peer that sends more
    // than 6 in 60 s.
    static constexpr std::chrono::seconds kSendInterval{60};
    // What we take from one peer: more messages than this within kReceiveWindow are ignored.
    static constexpr std::size_t kMaxReceived = 6;
    static constexpr std::chrono::seconds kReceiveWindow{60};

    struct Outgoing {
        PeerKey peer;
        std::uint8_t ext_id = 0;  // the peer's id for ut_pex, from its extension handshake
        std::string payload;      // the bencoded message
    };

    // A connected peer's extension handshake. `remote` is the connection's far end; for an
    // incoming connection the peer listens on its address at the handshake's `p` (if sent).
    // Returns where the peer accepts connections (nullopt: unknown), to list and tell others.
    std::optional<Endpoint> on_handshake(PeerKey peer, const Endpoint& remote, bool incoming,
                                         const wire::ExtensionHandshake& ext);
    void forget(PeerKey peer);
    std::optional<Endpoint> listen_endpoint(PeerKey peer) const;

    // The messages due at `now`, given the peers to advertise (connected, with their listen
    // endpoints): each ut_pex peer whose last message is kSendInterval old (or that has had none)
    // is told what changed since. A peer with nothing to hear gets no message, and the minute
    // does not restart for it.
    std::vector<Outgoing> due(const std::vector<wire::PexPeer>& advertised, Clock::time_point now);

    // A ut_pex message from `peer`: the peers it adds. Throws ProtocolError if malformed (the
    // caller treats it as a protocol violation). Empty when the peer sent more than
    // kMaxReceived within kReceiveWindow (the message is ignored) or never offered ut_pex.
    std::vector<wire::PexPeer> on_message(PeerKey peer, std::string_view payload,
                                          Clock::time_point now);

  private:
    struct Remote {
        std::uint8_t ext_id = 0;  // 0: it does not speak ut_pex
        std::optional<Endpoint> listen;
        wire::PexTracker told;
        std::optional<Clock::time_point> last_sent;
        std::deque<Clock::time_point> received;  // within the last kReceiveWindow
    };
    std::map<PeerKey, Remote> remotes_;
};

}  // namespace btd
