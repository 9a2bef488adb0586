#pragma once
// Pure string work on tracker URLs: splitting them, building announce/scrape queries (BEP 3, 23,
// 48). No I/O, so all of it is unit-tested with exact strings.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/tracker/tracker_types.hpp"
#include "core/util/url.hpp"

namespace btd::tracker {

// Byte-wise percent-encoding: unreserved characters (RFC 3986) pass, the rest become %XX.
std::string percent_encode(std::string_view bytes);

// The announce URL with all BEP 3 parameters appended ('&' if it already has a query).
std::string build_announce_url(std::string_view announce_url, const AnnounceParams& p);

// BEP 48: the last path component must start with "announce", which becomes "scrape".
// nullopt if the tracker does not follow that convention (then it cannot be scraped).
std::optional<std::string> scrape_url_from_announce(std::string_view announce_url);

std::string build_scrape_url(std::string_view scrape_url, const Sha1Hash& info_hash);

std::string_view event_name(Event e);  // "started", "completed", "stopped", "" for none

}  // namespace btd::tracker
