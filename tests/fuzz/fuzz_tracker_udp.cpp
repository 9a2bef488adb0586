// libFuzzer target: BEP 15 UDP tracker replies (core/tracker/udp_protocol). The packet goes to
// every decoder with the transaction id it carries (as a client with that transaction pending
// would see it), announce both as IPv4 and IPv6 tracker, scrape for one and for many hashes.
#include <cstdint>
#include <string_view>

#include "core/tracker/udp_protocol.hpp"

namespace udp = btd::tracker::udp;

namespace {

template <class Decode>
void expect_tracker_error_only(Decode decode) {
    try {
        decode();
    } catch (const btd::tracker::TrackerError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view packet(reinterpret_cast<const char*>(data), size);
    auto header = udp::peek_header(packet);
    std::uint32_t tid = header ? header->transaction_id : 0;
    expect_tracker_error_only([&] { udp::decode_connect(packet, tid); });
    expect_tracker_error_only([&] { udp::decode_announce(packet, tid, false); });
    expect_tracker_error_only([&] { udp::decode_announce(packet, tid, true); });
    expect_tracker_error_only([&] { udp::decode_scrape(packet, tid, 1); });
    std::size_t entries = size > 8 ? (size - 8) / 12 : 0;
    expect_tracker_error_only([&] { udp::decode_scrape(packet, tid, entries + 1); });
    return 0;
}
