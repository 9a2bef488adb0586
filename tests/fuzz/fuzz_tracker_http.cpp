// libFuzzer target: HTTP tracker replies (core/tracker/response_parser): the announce body and
// the scrape body, as a tracker's bytes reach them. Bad replies must throw TrackerError, never
// anything else; peers that come out must have a port.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/tracker/response_parser.hpp"

namespace {

// The info-hash of tests/data/lt_single.torrent: the scrape seeds name it.
const btd::Sha1Hash kScrapedHash = *btd::sha1_from_hex("0dd3ba470adb6e6c0831ecc2f49b5d132296cb28");

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    try {
        auto reply = btd::tracker::parse_announce_response(body);
        for (auto& peer : reply.peers)
            if (peer.port() == 0) std::abort();
        if (reply.interval.count() <= 0) std::abort();
    } catch (const btd::tracker::TrackerError&) {
    }
    try {
        (void)btd::tracker::parse_scrape_response(body, kScrapedHash);
    } catch (const btd::tracker::TrackerError&) {
    }
    (void)btd::tracker::sanitize_tracker_text(body);
    return 0;
}
