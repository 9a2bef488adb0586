#include "core/session/pex_exchange.hpp"

namespace btd {

std::optional<PexExchange::Endpoint> PexExchange::on_handshake(
    PeerKey peer, const Endpoint& remote, bool incoming, const wire::ExtensionHandshake& ext) {
    std::optional<Endpoint> listen;
    if (!incoming)
        listen = remote;
    else if (ext.listen_port != 0)
        listen = Endpoint(remote.address(), ext.listen_port);
    auto it = remotes_.find(peer);
    if (it == remotes_.end())
        it =
            remotes_
                .emplace(peer, Remote{0, listen, wire::PexTracker(listen.value_or(remote)), {}, {}})
                .first;
    else if (listen && listen != it->second.listen) {  // so it is never told about itself
        it->second.listen = listen;
        it->second.told = wire::PexTracker(*listen);
    }
    // A later handshake may turn ut_pex on or off (id 0); ids above 255 are not ours to use.
    auto id = ext.messages.find(std::string(wire::kUtPex));
    if (id != ext.messages.end())
        it->second.ext_id = id->second > 0 && id->second < 256 ? std::uint8_t(id->second) : 0;
    return it->second.listen;
}

void PexExchange::forget(PeerKey peer) {
    remotes_.erase(peer);
}

std::optional<PexExchange::Endpoint> PexExchange::listen_endpoint(PeerKey peer) const {
    auto it = remotes_.find(peer);
    return it == remotes_.end() ? std::nullopt : it->second.listen;
}

std::vector<PexExchange::Outgoing> PexExchange::due(const std::vector<wire::PexPeer>& advertised,
                                                    Clock::time_point now) {
    std::vector<Outgoing> out;
    for (auto& [key, remote] : remotes_) {
        if (remote.ext_id == 0) continue;
        if (remote.last_sent && now - *remote.last_sent < kSendInterval) continue;
        auto message = remote.told.update(advertised);
        if (message.empty()) continue;
        remote.last_sent = now;
        out.push_back({key, remote.ext_id, wire::encode_pex(message)});
    }
    return out;
}

std::vector<wire::PexPeer> PexExchange::on_message(PeerKey peer, std::string_view payload,
                                                   Clock::time_point now) {
    auto message = wire::decode_pex(payload);  // malformed is a violation even when ignored
    auto it = remotes_.find(peer);
    if (it == remotes_.end()) return {};
    auto& received = it->second.received;
    while (!received.empty() && now - received.front() >= kReceiveWindow) received.pop_front();
    if (received.size() >= kMaxReceived) return {};
    received.push_back(now);
    return std::move(message.added);
}

}  // namespace btd
