#include <spdlog/spdlog.h>

#include "core/session/torrent.hpp"

// A torrent's peer exchange (BEP 11 ut_pex, decided by PexExchange) and where connected peers
// listen: an incoming peer that names its listen port becomes a candidate of source `incoming`,
// so it can be dialled again once it hangs up. A private torrent (BEP 27) neither offers nor
// uses PEX: its peers come from its trackers only.

namespace btd {

void Torrent::note_extension_handshake(PeerConnection& peer, const wire::ExtensionHandshake& ext) {
    auto listen = pex_.on_handshake(peer.state().key(), peer.remote(), peer.incoming(), ext);
    if (!peer.incoming() || !listen) return;
    peer_list_.add({*listen}, PeerSource::incoming);
    // Connected already: not dialled while it lasts (if the full list took it at all).
    if (peer_list_.source_of(*listen)) peer_list_.mark_dialled(*listen);
}

void Torrent::forget_pex(PeerConnection& peer) {
    auto listen = pex_.listen_endpoint(peer.state().key());
    // It left (or we dropped it): dialled again only after the usual back-off, not at once.
    if (peer.incoming() && listen && peer_list_.source_of(*listen))
        peer_list_.on_closed(*listen, PeerList::Ending::ordinary, ctx_.clock.now());
    pex_.forget(peer.state().key());
}

void Torrent::on_pex(PeerConnection& peer, const wire::Message& msg) {
    if (!pex_allowed()) return;  // never offered: whatever a peer sends is not used
    std::vector<wire::PexPeer> added;
    try {
        added = pex_.on_message(peer.state().key(), msg.payload, ctx_.clock.now());
    } catch (const wire::ProtocolError& e) {
        return peer.close_violation(e.what());
    }
    std::vector<Endpoint> endpoints;
    for (const auto& p : added) {
        // A seed is no use to us once we have what we want.
        if (finished() && (p.flags & wire::pex_flags::kSeed)) continue;
        endpoints.push_back(p.endpoint);
    }
    if (endpoints.empty()) return;
    spdlog::debug("{}: {} named {} peer(s) by PEX", meta_.name, endpoint_string(peer.remote()),
                  endpoints.size());
    add_peers(endpoints, PeerSource::pex);
}

// Connected peers others may dial: the ones we dialled, and incoming ones that named their
// listen port.
std::vector<wire::PexPeer> Torrent::pex_advertised() const {
    std::vector<wire::PexPeer> out;
    for (const auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        auto listen = pex_.listen_endpoint(peer->state().key());
        if (!listen && !peer->incoming()) listen = peer->remote();
        if (!listen) continue;
        std::uint8_t flags = 0;
        if (peer->state().is_seed()) flags |= wire::pex_flags::kSeed;
        if (!peer->incoming()) flags |= wire::pex_flags::kReachable;
        out.push_back({*listen, flags});
    }
    return out;
}

void Torrent::send_pex(Clock::time_point now) {
    if (!pex_allowed() || !active()) return;
    for (auto& message : pex_.due(pex_advertised(), now)) {
        auto* peer = find_peer(message.peer);
        if (!peer) continue;
        std::string out;
        wire::append_extended(out, message.ext_id, message.payload);
        peer->send(out);
    }
}

}  // namespace btd
