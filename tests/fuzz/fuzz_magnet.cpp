// libFuzzer target: magnet URIs (core/metainfo/magnet), as btctl / RPC callers hand them in.
// Bad links must throw MetainfoError; a link that parses must survive make_magnet and a second
// parse with the same info-hash, name and trackers.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/metainfo/magnet.hpp"
#include "core/metainfo/metainfo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view uri(reinterpret_cast<const char*>(data), size);
    (void)btd::is_magnet_uri(uri);
    btd::MagnetLink link;
    try {
        link = btd::parse_magnet(uri);
    } catch (const btd::MetainfoError&) {
        return 0;
    }
    if (link.trackers.size() > btd::kMaxMagnetTrackers ||
        link.peers.size() > btd::kMaxMagnetPeers || link.notes.size() > 16)
        std::abort();
    auto again =
        btd::parse_magnet(btd::make_magnet(link.info_hash, link.display_name, link.trackers));
    if (again.info_hash != link.info_hash || again.display_name != link.display_name ||
        again.trackers != link.trackers)
        std::abort();
    return 0;
}
