#pragma once
// BEP 15 UDP tracker packets: encoders produce the exact wire bytes, decoders check size, action
// and transaction id and throw TrackerError (or TrackerFailure for an action-3 error packet).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tracker/tracker_types.hpp"

namespace btd::tracker::udp {

inline constexpr std::uint64_t kProtocolId = 0x41727101980ULL;

enum class Action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

struct Header {
    Action action;
    std::uint32_t transaction_id;
};

// First 8 bytes of any response; nullopt if the packet is shorter.
std::optional<Header> peek_header(std::string_view packet);

std::string encode_connect(std::uint32_t transaction_id);
std::uint64_t decode_connect(std::string_view packet, std::uint32_t transaction_id);

std::string encode_announce(std::uint64_t connection_id, std::uint32_t transaction_id,
                            const AnnounceParams& p);
// ipv6: the tracker was reached over IPv6, so peers are 18-byte entries (BEP 15).
AnnounceResponse decode_announce(std::string_view packet, std::uint32_t transaction_id, bool ipv6);

std::string encode_scrape(std::uint64_t connection_id, std::uint32_t transaction_id,
                          std::span<const Sha1Hash> info_hashes);
std::vector<ScrapeInfo> decode_scrape(std::string_view packet, std::uint32_t transaction_id,
                                      std::size_t expected_count);

// Event numbering on the wire: none 0, completed 1, started 2, stopped 3.
std::uint32_t event_code(Event e);

}  // namespace btd::tracker::udp
