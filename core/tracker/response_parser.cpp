#include "core/tracker/response_parser.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "core/bencode/bencode.hpp"

namespace btd::tracker {
namespace {

namespace asio = boost::asio;
using bencode::Value;

constexpr std::size_t kMaxTextLength = 512;
constexpr std::size_t kMaxTrackerIdLength = 256;

Value decode_dict(std::string_view body, std::string_view what) {
    Value root;
    try {
        root = bencode::decode(body);
    } catch (const bencode::DecodeError& e) {
        throw TrackerError(std::string(what) + " is not valid bencode: " + e.what());
    }
    if (!root.is_dict()) throw TrackerError(std::string(what) + " is not a bencoded dictionary");
    if (const Value* failure = root.find("failure reason")) {
        if (!failure->is_string()) throw TrackerError("tracker 'failure reason' is not a string");
        throw TrackerFailure(sanitize_tracker_text(failure->as_string()));
    }
    return root;
}

std::uint16_t read_port(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// Non-negative counters; out-of-range values are ignored (-1) rather than trusted.
int optional_count(const Value& dict, std::string_view key) {
    const Value* v = dict.find(key);
    if (!v) return -1;
    if (!v->is_int())
        throw TrackerError("tracker field '" + std::string(key) + "' is not an integer");
    std::int64_t n = v->as_int();
    if (n < 0 || n > 100'000'000) return -1;
    return static_cast<int>(n);
}

// One bad entry (not a dictionary, no usable ip or port, a host name) is skipped: the other
// peers in the reply are still good.
std::optional<asio::ip::tcp::endpoint> parse_peer_entry(const Value& entry) {
    if (!entry.is_dict()) return std::nullopt;
    const Value* ip = entry.find("ip");
    const Value* port = entry.find("port");
    if (!ip || !ip->is_string() || !port || !port->is_int()) return std::nullopt;
    if (port->as_int() <= 0 || port->as_int() > 65535) return std::nullopt;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(ip->as_string(), ec);
    if (ec) return std::nullopt;  // host names would need a resolver; no tracker we know sends them
    return asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(port->as_int()));
}

Endpoints parse_peer_list(const bencode::List& list) {
    Endpoints out;
    for (const Value& entry : list)
        if (auto endpoint = parse_peer_entry(entry)) out.push_back(*endpoint);
    return out;
}

}  // namespace

std::chrono::seconds clamp_interval(std::int64_t seconds) {
    return std::chrono::seconds(
        std::clamp<std::int64_t>(seconds, kMinInterval.count(), kMaxInterval.count()));
}

std::string sanitize_tracker_text(std::string_view text) {
    std::string out(text.substr(0, kMaxTextLength));
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

Endpoints parse_compact_peers_v4(std::string_view bytes) {
    Endpoints out;
    out.reserve(bytes.size() / 6);
    for (std::size_t i = 0; i + 6 <= bytes.size(); i += 6) {
        auto p = reinterpret_cast<const unsigned char*>(bytes.data() + i);
        asio::ip::address_v4::bytes_type raw{p[0], p[1], p[2], p[3]};
        std::uint16_t port = read_port(p + 4);
        if (port == 0) continue;
        out.emplace_back(asio::ip::address_v4(raw), port);
    }
    return out;
}

Endpoints parse_compact_peers_v6(std::string_view bytes) {
    Endpoints out;
    out.reserve(bytes.size() / 18);
    for (std::size_t i = 0; i + 18 <= bytes.size(); i += 18) {
        auto p = reinterpret_cast<const unsigned char*>(bytes.data() + i);
        asio::ip::address_v6::bytes_type raw;
        std::copy(p, p + 16, raw.begin());
        std::uint16_t port = read_port(p + 16);
        if (port == 0) continue;
        out.emplace_back(asio::ip::address_v6(raw), port);
    }
    return out;
}

AnnounceResponse parse_announce_response(std::string_view body) {
    Value root = decode_dict(body, "tracker announce response");
    AnnounceResponse r;

    const Value* interval = root.find("interval");
    const Value* peers = root.find("peers");
    const Value* peers6 = root.find("peers6");
    if (!interval && !peers && !peers6)
        throw TrackerError("tracker announce response has neither 'interval' nor 'peers'");
    if (interval) {
        if (!interval->is_int()) throw TrackerError("tracker 'interval' is not an integer");
        r.interval = clamp_interval(interval->as_int());
    } else {
        r.interval = kDefaultInterval;
    }
    if (const Value* min = root.find("min interval")) {
        if (!min->is_int()) throw TrackerError("tracker 'min interval' is not an integer");
        r.min_interval = std::min(clamp_interval(min->as_int()), r.interval);
    }
    if (const Value* id = root.find("tracker id")) {
        if (!id->is_string() || id->as_string().size() > kMaxTrackerIdLength)
            throw TrackerError("tracker 'tracker id' is not a string of at most 256 bytes");
        r.tracker_id = id->as_string();
    }
    if (const Value* warning = root.find("warning message")) {
        if (!warning->is_string()) throw TrackerError("tracker 'warning message' is not a string");
        r.warning = sanitize_tracker_text(warning->as_string());
    }
    r.seeders = optional_count(root, "complete");
    r.leechers = optional_count(root, "incomplete");

    if (peers) {
        if (peers->is_string())
            r.peers = parse_compact_peers_v4(peers->as_string());
        else if (peers->is_list())
            r.peers = parse_peer_list(peers->as_list());
        else
            throw TrackerError("tracker 'peers' is neither a string nor a list");
    }
    if (peers6) {
        if (!peers6->is_string()) throw TrackerError("tracker 'peers6' is not a string");
        Endpoints v6 = parse_compact_peers_v6(peers6->as_string());
        r.peers.insert(r.peers.end(), v6.begin(), v6.end());
    }
    return r;
}

ScrapeInfo parse_scrape_response(std::string_view body, const Sha1Hash& info_hash) {
    Value root = decode_dict(body, "tracker scrape response");
    const Value* files = root.find("files");
    if (!files || !files->is_dict())
        throw TrackerError("tracker scrape response has no 'files' dictionary");
    const Value* entry = files->find(as_chars(info_hash));
    if (!entry) throw TrackerError("tracker scrape response does not list this torrent");
    if (!entry->is_dict()) throw TrackerError("tracker scrape entry is not a dictionary");
    ScrapeInfo info;
    info.seeders = optional_count(*entry, "complete");
    info.leechers = optional_count(*entry, "incomplete");
    info.downloaded = optional_count(*entry, "downloaded");
    return info;
}

}  // namespace btd::tracker
