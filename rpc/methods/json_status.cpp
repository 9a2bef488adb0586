#include "rpc/methods/json_status.hpp"

#include <iterator>

#include "rpc/methods/json_writer.hpp"

namespace btd::rpc {

using nlohmann::json;

const std::vector<std::string>& summary_fields() {
    static const std::vector<std::string> kFields = {
        "id",         "name",     "state",         "progress",       "size",     "have_bytes",
        "downloaded", "uploaded", "download_rate", "upload_rate",    "peers",    "seeds",
        "eta",        "ratio",    "error",         "download_dir",   "added_at", "total_size",
        "sequential", "labels",   "done_at",       "queue_position", "stalled"};
    return kFields;
}

namespace {

using MemberWriter = void (*)(std::string&, const TorrentStatus&);

struct Member {
    std::string_view name;
    MemberWriter write;
};

// In name order: the order nlohmann::json objects dump their members in.
constexpr Member kSummaryMembers[] = {
    {"added_at", [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.added_at); }},
    {"done_at", [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.done_at); }},
    {"download_dir",
     [](std::string& o, const TorrentStatus& s) {
         append_json_string(o, s.download_dir.native());
     }},
    {"download_rate",
     [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.download_rate); }},
    {"downloaded",
     [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.downloaded); }},
    {"error", [](std::string& o, const TorrentStatus& s) { append_json_string(o, s.error); }},
    {"eta", [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.eta); }},
    {"have_bytes",
     [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.have_bytes); }},
    {"id", [](std::string& o, const TorrentStatus& s) { append_json_string(o, to_hex(s.id)); }},
    {"labels",
     [](std::string& o, const TorrentStatus& s) {
         char separator = '[';
         for (const auto& label : s.labels) {
             o += separator;
             separator = ',';
             append_json_string(o, label);
         }
         o += s.labels.empty() ? "[]" : "]";
     }},
    {"name", [](std::string& o, const TorrentStatus& s) { append_json_string(o, s.name); }},
    {"peers",
     [](std::string& o, const TorrentStatus& s) { append_json_number(o, std::int64_t(s.peers)); }},
    {"progress", [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.progress); }},
    {"queue_position",
     [](std::string& o, const TorrentStatus& s) {
         append_json_number(o, std::int64_t(s.queue_position));
     }},
    {"ratio", [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.ratio); }},
    {"seeds",
     [](std::string& o, const TorrentStatus& s) { append_json_number(o, std::int64_t(s.seeds)); }},
    {"sequential",
     [](std::string& o, const TorrentStatus& s) { append_json_bool(o, s.sequential); }},
    {"size", [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.size); }},
    {"stalled", [](std::string& o, const TorrentStatus& s) { append_json_bool(o, s.stalled); }},
    {"state",
     [](std::string& o, const TorrentStatus& s) { append_json_string(o, to_string(s.state)); }},
    {"total_size",
     [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.total_size); }},
    {"upload_rate",
     [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.upload_rate); }},
    {"uploaded", [](std::string& o, const TorrentStatus& s) { append_json_number(o, s.uploaded); }},
};

// kSummaryMembers[i]'s bit in SummaryFields.
const std::vector<SummaryFields>& member_bits() {
    static const std::vector<SummaryFields> kBits = [] {
        std::vector<SummaryFields> out;
        for (const auto& m : kSummaryMembers) out.push_back(summary_field_bit(m.name));
        return out;
    }();
    return kBits;
}

}  // namespace

SummaryFields all_summary_fields() {
    return (SummaryFields(1) << summary_fields().size()) - 1;
}

SummaryFields summary_field_bit(std::string_view name) {
    const auto& names = summary_fields();
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return SummaryFields(1) << i;
    return 0;
}

void append_summary(std::string& out, const TorrentStatus& status, SummaryFields fields) {
    fields |= summary_field_bit("id");
    const auto& bits = member_bits();
    char separator = '{';
    for (std::size_t i = 0; i < std::size(kSummaryMembers); ++i) {
        if (!(fields & bits[i])) continue;
        out += separator;
        separator = ',';
        out += '"';
        out += kSummaryMembers[i].name;
        out += "\":";
        kSummaryMembers[i].write(out, status);
    }
    out += '}';
}

json to_json(const TorrentStatus& s) {
    return {{"id", to_hex(s.id)},
            {"name", s.name},
            {"state", to_string(s.state)},
            {"progress", s.progress},
            {"size", s.size},
            {"have_bytes", s.have_bytes},
            {"downloaded", s.downloaded},
            {"uploaded", s.uploaded},
            {"download_rate", s.download_rate},
            {"upload_rate", s.upload_rate},
            {"peers", s.peers},
            {"seeds", s.seeds},
            {"eta", s.eta},
            {"ratio", s.ratio},
            {"error", s.error},
            {"download_dir", s.download_dir.string()},
            {"added_at", s.added_at},
            {"total_size", s.total_size},
            {"sequential", s.sequential},
            {"labels", s.labels},
            {"done_at", s.done_at},
            {"queue_position", s.queue_position},
            {"stalled", s.stalled}};
}

json to_json(const TorrentDetails& d) {
    json out = to_json(d.status);
    out["metadata_progress"] = d.status.metadata_progress;
    json files = json::array();
    for (const auto& f : d.files) {
        files.push_back({{"path", f.path},
                         {"size", f.size},
                         {"have_bytes", f.have_bytes},
                         {"progress", f.size > 0 ? double(f.have_bytes) / double(f.size) : 1.0},
                         {"priority", f.priority},
                         {"pad", f.pad}});
    }
    json trackers = json::array();
    for (const auto& t : d.trackers) {
        trackers.push_back({{"url", t.url},
                            {"tier", t.tier},
                            {"state", t.state},
                            {"message", t.message},
                            {"seeders", t.seeders},
                            {"leechers", t.leechers},
                            {"peers_received", t.peers_received},
                            {"next_announce_in", t.next_announce_in_s}});
    }
    json peers = json::array();
    for (const auto& p : d.peers) {
        peers.push_back({{"address", p.address},
                         {"client", p.client},
                         {"progress", p.progress},
                         {"download_rate", p.download_rate},
                         {"upload_rate", p.upload_rate},
                         {"flags", p.flags},
                         {"incoming", p.incoming},
                         {"source", to_string(p.source)}});
    }
    out["files"] = std::move(files);
    out["trackers"] = std::move(trackers);
    out["peers"] = std::move(peers);  // replaces the count of the summary with the list
    out["peer_count"] = d.status.peers;
    out["pieces"] = d.pieces;
    out["piece_length"] = d.piece_length;
    out["private"] = d.is_private;
    out["comment"] = d.comment;
    // What torrent.set changed; null = the session's limit applies.
    auto limit = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    out["limits"] = {{"download_rate_limit", limit(d.limits.download_rate_limit)},
                     {"upload_rate_limit", limit(d.limits.upload_rate_limit)},
                     {"ratio_limit", limit(d.limits.ratio_limit)}};
    return out;
}

json to_json(const SessionStats& s) {
    json by_state = json::object();
    for (const auto& [state, count] : s.by_state) by_state[state] = count;
    json out = {{"download_rate", s.download_rate},
                {"upload_rate", s.upload_rate},
                {"downloaded", s.downloaded},
                {"uploaded", s.uploaded},
                {"torrents", s.torrents},
                {"by_state", std::move(by_state)},
                {"peers", s.peers},
                {"listen_port", s.listen_port},
                {"awake_torrents", s.awake_torrents}};
    out["dht"] = {{"enabled", s.dht_enabled}, {"nodes", s.dht_nodes}, {"lookups", s.dht_lookups}};
    out["disk"] = {
        {"waiting",
         {{"read", s.disk_waiting_read},
          {"write", s.disk_waiting_write},
          {"check", s.disk_waiting_check},
          {"other", s.disk_waiting_other}}},
        {"running", s.disk_running},
        {"hashed_bytes", {{"check", s.hashed_check_bytes}, {"download", s.hashed_download_bytes}}}};
    return out;
}

json to_json(const SessionSettings& s) {
    return {{"listen_port", s.listen_port},
            {"listen_address", s.listen_address},
            {"download_dir", s.default_download_dir.string()},
            {"download_rate_limit", s.download_rate_limit},
            {"upload_rate_limit", s.upload_rate_limit},
            {"max_peers_per_torrent", s.max_peers_per_torrent},
            {"max_connections", s.max_connections},
            {"ratio_limit", s.ratio_limit},
            {"seed_idle_limit", s.seed_idle_limit},
            {"disk_threads", s.disk_threads},
            {"memory_budget", s.memory_budget}};
}

}  // namespace btd::rpc
