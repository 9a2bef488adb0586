#include <spdlog/spdlog.h>

#include "core/session/session_impl.hpp"

// Local peer discovery's glue (BEP 14): the LsdService announces the running non-private
// torrents on the LAN, and the peers it hears go to their torrent as source `lsd`.

namespace btd {

void Session::Impl::configure_lsd() {
    if (!ctx.settings.lsd) {
        if (lsd) spdlog::info("local peer discovery off");
        lsd.reset();
        return;
    }
    if (lsd) return;
    auto service = std::make_unique<discovery::LsdService>(
        ctx.io, [this] { return lsd_listed(); },
        [this](const Sha1Hash& info_hash, const boost::asio::ip::tcp::endpoint& peer) {
            deliver_peers(info_hash, {peer}, PeerSource::lsd);
        });
    if (auto error = service->start()) {
        spdlog::warn("{}", *error);
        return;
    }
    lsd = std::move(service);
    spdlog::info("local peer discovery on (multicast {}:{})", discovery::kLsdGroupV4,
                 discovery::kLsdPort);
}

discovery::LsdService::Listed Session::Impl::lsd_listed() const {
    discovery::LsdService::Listed listed{ctx.listen_port, {}};
    for (const auto& [id, t] : torrents)
        if (t->accepting() && !t->metainfo().is_private) listed.info_hashes.push_back(id);
    return listed;
}

}  // namespace btd
