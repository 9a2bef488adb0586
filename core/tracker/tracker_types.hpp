#pragma once
// Plain data exchanged with trackers (announce parameters, parsed responses) and the errors that
// parsers raise. Shared by the HTTP (BEP 3/23/7/48) and UDP (BEP 15) code paths.
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/util/hash.hpp"

namespace btd::tracker {

enum class Event { none, started, completed, stopped };

struct AnnounceParams {
    Sha1Hash info_hash{};
    PeerId peer_id{};
    std::uint16_t port = 0;
    std::int64_t uploaded = 0;
    std::int64_t downloaded = 0;
    std::int64_t left = 0;
    Event event = Event::none;
    int numwant = 200;
    std::uint32_t key = 0;   // random per announcer; lets the tracker recognise us across IPs
    std::string tracker_id;  // echoed back if the tracker gave us one (empty: not sent)
};

using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;

struct AnnounceResponse {
    std::chrono::seconds interval{1800};
    std::optional<std::chrono::seconds> min_interval;
    std::string tracker_id;
    std::string warning;
    int seeders = -1;   // "complete", -1 if not reported
    int leechers = -1;  // "incomplete"
    Endpoints peers;    // IPv4 and IPv6 together
};

struct ScrapeInfo {
    int seeders = -1;     // complete
    int leechers = -1;    // incomplete
    int downloaded = -1;  // times completed
};

// A response we cannot make sense of (bad bencode, wrong types, truncated packet...).
class TrackerError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The tracker itself refused us; what() is the tracker's own "failure reason" text.
class TrackerFailure : public TrackerError {
  public:
    using TrackerError::TrackerError;
};

// Trackers pick their own intervals; keep them within limits that neither hammer the tracker
// nor leave us without peers for hours.
inline constexpr std::chrono::seconds kMinInterval{30};
inline constexpr std::chrono::seconds kMaxInterval{2 * 60 * 60};
inline constexpr std::chrono::seconds kDefaultInterval{30 * 60};

}  // namespace btd::tracker
