// The torrent-get field table: each Transmission field computed from btd's status, details and
// metainfo. Fields btd cannot answer truthfully are absent (see rpc/README.md).
#include <chrono>
#include <optional>
#include <type_traits>

#include "core/metainfo/magnet.hpp"
#include "rpc/methods/json_writer.hpp"
#include "rpc/transmission/arguments.hpp"
#include "rpc/transmission/torrent_view.hpp"
#include "rpc/transport/base64.hpp"

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;

constexpr std::int64_t kEtaNotAvailable = -1;
constexpr std::int64_t kEtaUnknown = -2;
constexpr int kLocalError = 3;

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t left_until_done(const TorrentStatus& s) {
    return std::max<std::int64_t>(0, s.size - s.have_bytes);
}

double percent_done(const TorrentStatus& s) {
    return s.size > 0 ? double(s.have_bytes) / double(s.size) : 1.0;
}

std::int64_t eta(const TorrentStatus& s) {
    if (s.state != TorrentState::downloading) return kEtaNotAvailable;
    return s.eta >= 0 ? s.eta : kEtaUnknown;
}

// A torrent btd paused because it reached the session's ratio limit. (Per-torrent limits and the
// idle limit cannot be read back from the Session yet, so those stops are not recognised.)
bool is_finished(const TorrentView& v) {
    const auto& s = v.status();
    double limit = v.settings().ratio_limit;
    return s.state == TorrentState::paused && left_until_done(s) == 0 && limit > 0 &&
           s.ratio >= limit;
}

std::int64_t have_valid(const TorrentView& v) {
    std::int64_t sum = 0;
    for (const auto* f : v.files()) sum += f->have_bytes;
    return sum;
}

json files(const TorrentView& v) {
    json out = json::array();
    for (const auto* f : v.files())
        out.push_back({{"name", f->path}, {"length", f->size}, {"bytesCompleted", f->have_bytes}});
    return out;
}

json file_stats(const TorrentView& v) {
    json out = json::array();
    for (const auto* f : v.files())
        out.push_back({{"bytesCompleted", f->have_bytes},
                       {"wanted", f->priority != 0},
                       {"priority", transmission_priority(f->priority)}});
    return out;
}

json per_file(const TorrentView& v, int (*value)(int)) {
    json out = json::array();
    for (const auto* f : v.files()) out.push_back(value(f->priority));
    return out;
}

std::string host_of(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = url.find_first_of(":/?", url[start] == '[' ? url.find(']', start) : start);
    return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// By convention a tracker's scrape URL replaces "announce" in the last path segment.
std::string scrape_url(const std::string& announce) {
    auto slash = announce.rfind('/');
    if (slash == std::string::npos || announce.compare(slash + 1, 8, "announce") != 0) return "";
    return announce.substr(0, slash + 1) + "scrape" + announce.substr(slash + 9);
}

json tracker_entry(const tracker::TrackerStatus& t, int id) {
    return {{"id", id},
            {"announce", t.url},
            {"scrape", scrape_url(t.url)},
            {"sitename", host_of(t.url)},
            {"tier", t.tier}};
}

// The announcer's view; a paused torrent has none yet, so its metainfo's trackers, idle.
std::vector<tracker::TrackerStatus> tracker_rows(const TorrentView& v) {
    if (!v.details().trackers.empty()) return v.details().trackers;
    std::vector<tracker::TrackerStatus> rows;
    const auto& tiers = v.meta().announce_tiers;
    for (std::size_t tier = 0; tier < tiers.size(); ++tier)
        for (const auto& url : tiers[tier]) {
            tracker::TrackerStatus row;
            row.url = url;
            row.tier = static_cast<int>(tier);
            row.state = "idle";
            rows.push_back(std::move(row));
        }
    return rows;
}

json trackers(const TorrentView& v) {
    json out = json::array();
    int id = 0;
    for (const auto& t : tracker_rows(v)) out.push_back(tracker_entry(t, id++));
    return out;
}

json tracker_stats(const TorrentView& v) {
    json out = json::array();
    int id = 0;
    for (const auto& t : tracker_rows(v)) {
        json e = tracker_entry(t, id++);
        bool announced = t.state == "working" || t.state == "error";
        e["host"] = host_of(t.url);
        e["announceState"] = t.state == "announcing" ? 3 : 1;  // active : waiting
        e["hasAnnounced"] = announced;
        e["lastAnnounceSucceeded"] = t.state == "working";
        e["lastAnnounceResult"] = t.message.empty() && t.state == "working" ? "Success" : t.message;
        e["lastAnnouncePeerCount"] = t.peers_received;
        e["seederCount"] = t.seeders;
        e["leecherCount"] = t.leechers;
        e["nextAnnounceTime"] = t.next_announce_in_s >= 0 ? now_unix() + t.next_announce_in_s : 0;
        e["isBackup"] = false;
        out.push_back(std::move(e));
    }
    return out;
}

std::string tracker_list(const Metainfo& meta) {
    std::string out;
    for (const auto& tier : meta.announce_tiers) {
        if (!out.empty()) out += "\n";
        for (const auto& url : tier) out += url + "\n";
    }
    return out;
}

std::string magnet_link(const Metainfo& meta) {
    std::vector<std::string> urls;
    for (const auto& tier : meta.announce_tiers) urls.insert(urls.end(), tier.begin(), tier.end());
    return make_magnet(meta.info_hash, meta.name, urls);
}

std::string pieces_base64(const std::string& have) {
    std::string bytes((have.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < have.size(); ++i)
        if (have[i] == '1') bytes[i / 8] = char(bytes[i / 8] | (0x80 >> (i % 8)));
    return base64_encode(bytes);
}

json peer_entry(const PeerStatus& p) {
    auto colon = p.address.rfind(':');
    std::string host = p.address.substr(0, colon);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    int port = colon == std::string::npos ? 0 : std::atoi(p.address.c_str() + colon + 1);
    bool downloading = p.flags.find('D') != std::string::npos;
    bool choked = p.flags.find('c') != std::string::npos;
    bool interested = p.flags.find('i') != std::string::npos;
    std::string flags;
    if (downloading)
        flags += 'D';
    else if (interested && choked)
        flags += 'd';
    if (p.upload_rate > 0) flags += 'U';
    if (p.incoming) flags += 'I';
    return {{"address", host},
            {"port", port},
            {"clientName", p.client},
            {"progress", p.progress},
            {"rateToClient", p.download_rate},
            {"rateToPeer", p.upload_rate},
            {"flagStr", flags},
            {"isDownloadingFrom", downloading},
            {"isUploadingTo", p.upload_rate > 0},
            {"clientIsChoked", choked},
            {"clientIsInterested", interested},
            {"isIncoming", p.incoming},
            {"isEncrypted", false},  // btd speaks plain BitTorrent only
            {"isUTP", false}};       // and only over TCP
}

json peers(const TorrentView& v) {
    json out = json::array();
    for (const auto& p : v.details().peers) out.push_back(peer_entry(p));
    return out;
}

// Connected peers by who named them, under Transmission's names. A magnet's `x.pe` and the
// resume data's peers were both known before the swarm was asked: Transmission's "cache".
json peers_from(const TorrentView& v) {
    static constexpr std::pair<PeerSource, const char*> kNames[] = {
        {PeerSource::tracker, "fromTracker"},   {PeerSource::dht, "fromDht"},
        {PeerSource::pex, "fromPex"},           {PeerSource::lsd, "fromLpd"},
        {PeerSource::incoming, "fromIncoming"}, {PeerSource::resume, "fromCache"},
        {PeerSource::magnet, "fromCache"}};
    json out = {
        {"fromCache", 0}, {"fromDht", 0},    {"fromIncoming", 0},
        {"fromLpd", 0},   {"fromLtep", 0},  // btd takes no peer addresses from BEP 10 handshakes
        {"fromPex", 0},   {"fromTracker", 0}};
    for (const auto& p : v.details().peers)
        for (const auto& [source, name] : kNames)
            if (p.source == source) out[name] = out[name].get<int>() + 1;
    return out;
}

int count_peers(const TorrentView& v, std::int64_t PeerStatus::*rate) {
    int n = 0;
    for (const auto& p : v.details().peers)
        if (p.*rate > 0) ++n;
    return n;
}

// Transmission's modes: 0 the session's limit, 1 the torrent's own, 2 no limit. btd's own
// ratio_limit 0 means "none".
int ratio_mode(const TorrentView& v) {
    const auto& own = v.details().limits.ratio_limit;
    if (!own) return 0;
    return *own > 0 ? 1 : 2;
}

double ratio_limit(const TorrentView& v) {
    const auto& own = v.details().limits.ratio_limit;
    return own && *own > 0 ? *own : v.settings().ratio_limit;
}

int idle_mode(const TorrentView& v) {
    const auto& own = v.details().limits.seed_idle_limit;
    if (!own) return 0;
    return *own > 0 ? 1 : 2;
}

// Minutes, as Transmission counts them.
std::int64_t idle_limit_minutes(const TorrentView& v) {
    const auto& own = v.details().limits.seed_idle_limit;
    return (own && *own > 0 ? *own : v.settings().seed_idle_limit) / 60;
}

// kB/s as Transmission counts them; 0 when btd has no limit of the torrent's own.
std::int64_t speed_limit(const std::optional<std::int64_t>& bytes_per_s) {
    return bytes_per_s.value_or(0) / kSpeedUnit;
}

double upload_ratio(const TorrentStatus& s) {
    constexpr double kRatioNotAvailable = -1;
    return s.downloaded == 0 && s.have_bytes == 0 ? kRatioNotAvailable : s.ratio;
}

// Both forms of a field whose value is one number, bool or string: the tree's value and its
// text come from the same expression, so the two cannot disagree.
template <typename T>
void append_value(std::string& out, const T& value) {
    if constexpr (std::is_same_v<T, bool>)
        append_json_bool(out, value);
    else if constexpr (std::is_integral_v<T>)
        append_json_number(out, static_cast<std::int64_t>(value));
    else if constexpr (std::is_floating_point_v<T>)
        append_json_number(out, static_cast<double>(value));
    else
        append_json_string(out, value);
}

using V = const TorrentView&;

struct FieldRow {
    std::string_view name;
    FieldFn tree;
    FieldWriter text;  // null: written by dumping `tree`'s value
};

template <auto Value>
FieldRow scalar(std::string_view name) {
    return {name, [](V v) -> json { return Value(v); },
            [](std::string& out, V v) { append_value(out, Value(v)); }};
}

FieldRow tree_only(std::string_view name, json (*value)(V)) {
    return {name, value, nullptr};
}

void append_labels(std::string& out, V v) {
    char separator = '[';
    for (const auto& label : v.status().labels) {
        out += separator;
        separator = ',';
        append_json_string(out, label);
    }
    out += v.status().labels.empty() ? "[]" : "]";
}

std::vector<FieldRow> make_rows() {
    using S = const std::string&;
    return {
        scalar<([](V v) { return v.id(); })>("id"),
        scalar<([](V v) { return to_hex(v.status().id); })>("hashString"),
        scalar<([](V v) -> S { return v.status().name; })>("name"),
        scalar<([](V v) { return transmission_status(v.status()); })>("status"),
        scalar<([](V v) { return v.status().error.empty() ? 0 : kLocalError; })>("error"),
        scalar<([](V v) -> S { return v.status().error; })>("errorString"),
        scalar<([](V v) { return v.status().total_size; })>("totalSize"),
        scalar<([](V v) { return v.status().size; })>("sizeWhenDone"),
        scalar<([](V v) { return left_until_done(v.status()); })>("leftUntilDone"),
        scalar<([](V v) { return percent_done(v.status()); })>("percentDone"),
        scalar<([](V v) {
            auto total = v.status().total_size;
            return total > 0 ? double(have_valid(v)) / double(total) : 1.0;
        })>("percentComplete"),
        scalar<([](V v) {
            return v.status().state == TorrentState::checking ? v.status().progress : 0.0;
        })>("recheckProgress"),
        scalar<([](V v) { return have_valid(v); })>("haveValid"),
        scalar<([](V) { return 0; })>("haveUnchecked"),  // btd counts only verified pieces
        scalar<([](V v) { return v.status().download_rate; })>("rateDownload"),
        scalar<([](V v) { return v.status().upload_rate; })>("rateUpload"),
        scalar<([](V v) { return eta(v.status()); })>("eta"),
        scalar<([](V) { return kEtaNotAvailable; })>("etaIdle"),
        scalar<([](V v) -> S { return v.status().download_dir.native(); })>("downloadDir"),
        {"labels", [](V v) -> json { return v.status().labels; }, append_labels},
        scalar<([](V v) { return is_finished(v); })>("isFinished"),
        scalar<([](V v) { return v.status().stalled; })>("isStalled"),
        scalar<([](V v) { return v.status().added_at; })>("addedDate"),
        scalar<([](V v) { return v.status().activity_at; })>("activityDate"),
        scalar<([](V v) { return v.status().started_at; })>("startDate"),
        scalar<([](V v) { return v.status().corrupt_bytes; })>("corruptEver"),
        scalar<([](V v) { return v.status().desired_available; })>("desiredAvailable"),
        scalar<([](V v) { return v.status().manual_announce_at; })>("manualAnnounceTime"),
        scalar<([](V v) { return v.status().done_at; })>("doneDate"),
        scalar<([](V v) { return v.status().seconds_downloading; })>("secondsDownloading"),
        scalar<([](V v) { return v.status().seconds_seeding; })>("secondsSeeding"),
        scalar<([](V v) { return v.status().uploaded; })>("uploadedEver"),
        scalar<([](V v) { return v.status().downloaded; })>("downloadedEver"),
        scalar<([](V v) { return upload_ratio(v.status()); })>("uploadRatio"),
        scalar<([](V v) { return v.status().peers; })>("peersConnected"),
        scalar<([](V v) { return count_peers(v, &PeerStatus::download_rate); })>(
            "peersSendingToUs"),
        scalar<([](V v) { return count_peers(v, &PeerStatus::upload_rate); })>(
            "peersGettingFromUs"),
        scalar<([](V v) { return v.settings().max_peers_per_torrent; })>("peer-limit"),
        scalar<([](V v) { return v.settings().max_peers_per_torrent; })>("maxConnectedPeers"),
        tree_only("peersFrom", peers_from),
        tree_only("files", files),
        tree_only("fileStats", file_stats),
        scalar<([](V v) { return v.files().size(); })>("file-count"),
        scalar<([](V v) { return v.files().size(); })>("fileCount"),  // 3.00's name; Sonarr asks it
        tree_only("priorities", [](V v) { return per_file(v, transmission_priority); }),
        tree_only("wanted",  // 0/1 numbers, as Transmission 3.00 and 4.0.2+ send
                  [](V v) { return per_file(v, [](int p) { return p != 0 ? 1 : 0; }); }),
        tree_only("trackers", trackers),
        tree_only("trackerStats", tracker_stats),
        scalar<([](V v) { return tracker_list(v.meta()); })>("trackerList"),
        tree_only("peers", peers),
        scalar<([](V v) { return v.queue_position(); })>("queuePosition"),
        scalar<([](V v) { return ratio_limit(v); })>("seedRatioLimit"),
        scalar<([](V v) { return speed_limit(v.details().limits.download_rate_limit); })>(
            "downloadLimit"),
        scalar<([](V v) { return v.details().limits.download_rate_limit.value_or(0) > 0; })>(
            "downloadLimited"),
        scalar<([](V v) { return speed_limit(v.details().limits.upload_rate_limit); })>(
            "uploadLimit"),
        scalar<([](V v) { return v.details().limits.upload_rate_limit.value_or(0) > 0; })>(
            "uploadLimited"),
        scalar<([](V v) { return ratio_mode(v); })>("seedRatioMode"),
        scalar<([](V v) { return idle_limit_minutes(v); })>("seedIdleLimit"),
        scalar<([](V v) { return idle_mode(v); })>("seedIdleMode"),
        scalar<([](V) { return true; })>("honorsSessionLimits"),
        scalar<([](V) { return 0; })>("bandwidthPriority"),
        scalar<([](V v) { return v.meta().is_private; })>("isPrivate"),
        scalar<([](V v) -> S { return v.meta().comment; })>("comment"),
        scalar<([](V v) -> S { return v.meta().created_by; })>("creator"),
        scalar<([](V v) { return v.meta().creation_date; })>("dateCreated"),
        scalar<([](V v) { return v.meta().num_pieces(); })>("pieceCount"),
        scalar<([](V v) { return v.meta().piece_length; })>("pieceSize"),
        scalar<([](V v) { return pieces_base64(v.details().pieces); })>("pieces"),
        scalar<([](V v) { return magnet_link(v.meta()); })>("magnetLink"),
        scalar<([](V v) { return v.status().metadata_progress; })>("metadataPercentComplete"),
        tree_only("webseeds", [](V) { return json::array(); }),  // btd uses no web seeds
        scalar<([](V) { return 0; })>("webseedsSendingToUs"),
    };
}

const std::vector<FieldRow>& field_rows() {
    static const auto kRows = make_rows();
    return kRows;
}

}  // namespace

const std::map<std::string_view, FieldFn>& torrent_fields() {
    static const auto kFields = [] {
        std::map<std::string_view, FieldFn> out;
        for (const auto& row : field_rows()) out.emplace(row.name, row.tree);
        return out;
    }();
    return kFields;
}

FieldWriter torrent_field_writer(std::string_view name) {
    static const auto kWriters = [] {
        std::map<std::string_view, FieldWriter> out;
        for (const auto& row : field_rows())
            if (row.text) out.emplace(row.name, row.text);
        return out;
    }();
    auto it = kWriters.find(name);
    return it == kWriters.end() ? nullptr : it->second;
}

int transmission_status(const TorrentStatus& s) {
    switch (s.state) {
        case TorrentState::paused:
        case TorrentState::error:
            return 0;  // stopped
        case TorrentState::checking:
            return 2;  // verifying
        case TorrentState::queued:
            return left_until_done(s) == 0 ? 5 : 3;
        case TorrentState::seeding:
            return 6;
        case TorrentState::downloading:
        case TorrentState::downloading_metadata:
            return 4;
    }
    return 0;
}

int transmission_priority(int p) {
    if (p == 0 || p == 4) return 0;  // a skipped file keeps no priority of its own in btd
    return p < 4 ? -1 : 1;
}

int btd_priority(int p) {
    return p < 0 ? 1 : p > 0 ? 7 : 4;
}

std::vector<int> visible_file_indices(const Metainfo& meta) {
    std::vector<int> out;
    for (std::size_t i = 0; i < meta.files.size(); ++i)
        if (!meta.files[i].pad) out.push_back(static_cast<int>(i));
    return out;
}

}  // namespace btd::rpc::transmission
