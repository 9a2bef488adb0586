#pragma once
// Parsing of HTTP tracker bodies (BEP 3 announce, BEP 23 compact peers, BEP 7 peers6, BEP 48
// scrape). Every field is checked; anything structurally wrong throws TrackerError, a tracker's
// "failure reason" throws TrackerFailure carrying that text. A bad peer entry (a dictionary
// without a usable ip or port, a cut-off compact entry) is skipped, not the whole reply.
#include <string>
#include <string_view>

#include "core/tracker/tracker_types.hpp"

namespace btd::tracker {

// Compact peer strings: 6 bytes (IPv4 + port) or 18 bytes (IPv6 + port) per peer. Peers with
// port 0 are dropped, and so is a cut-off entry at the end (a length that is not a multiple of
// the entry size): one bad entry does not cost the other peers of the reply.
Endpoints parse_compact_peers_v4(std::string_view bytes);
Endpoints parse_compact_peers_v6(std::string_view bytes);

AnnounceResponse parse_announce_response(std::string_view body);

// Finds our torrent in a scrape reply's "files" dictionary.
ScrapeInfo parse_scrape_response(std::string_view body, const Sha1Hash& info_hash);

// Clamps a tracker-provided interval into [kMinInterval, kMaxInterval].
std::chrono::seconds clamp_interval(std::int64_t seconds);

// Tracker text goes into logs and UIs: cut it short and replace control characters.
std::string sanitize_tracker_text(std::string_view text);

}  // namespace btd::tracker
