#include "rpc/methods/session_metrics.hpp"

#include <algorithm>

namespace btd::rpc::transport {
namespace {

constexpr TorrentState kStates[] = {TorrentState::checking,    TorrentState::downloading_metadata,
                                    TorrentState::downloading, TorrentState::seeding,
                                    TorrentState::paused,      TorrentState::queued,
                                    TorrentState::error};

void write_session(PromText& out, const SessionStats& stats) {
    out.family("btd_download_rate_bytes", "gauge", "Payload download rate, bytes/s.");
    out.sample("btd_download_rate_bytes", static_cast<double>(stats.download_rate));
    out.family("btd_upload_rate_bytes", "gauge", "Payload upload rate, bytes/s.");
    out.sample("btd_upload_rate_bytes", static_cast<double>(stats.upload_rate));
    out.family("btd_downloaded_bytes_total", "counter",
               "Payload bytes received since btd started (session.stats downloaded).");
    out.sample("btd_downloaded_bytes_total", static_cast<double>(stats.downloaded));
    out.family("btd_uploaded_bytes_total", "counter",
               "Payload bytes sent since btd started (session.stats uploaded).");
    out.sample("btd_uploaded_bytes_total", static_cast<double>(stats.uploaded));
    out.family("btd_peers", "gauge", "Connected peers, all torrents.");
    out.sample("btd_peers", stats.peers);
    out.family("btd_torrents", "gauge", "Torrents by state.");
    for (auto state : kStates) {
        auto it = stats.by_state.find(to_string(state));
        out.sample("btd_torrents", {{"state", to_string(state)}},
                   it == stats.by_state.end() ? 0 : it->second);
    }
}

void write_disk(PromText& out, const SessionStats& stats) {
    out.family("btd_disk_jobs_waiting", "gauge",
               "Disk pool jobs submitted and not started, by kind (read: blocks for peers; "
               "write: hash and write a downloaded piece; check: hash check).");
    out.sample("btd_disk_jobs_waiting", {{"kind", "read"}},
               static_cast<double>(stats.disk_waiting_read));
    out.sample("btd_disk_jobs_waiting", {{"kind", "write"}},
               static_cast<double>(stats.disk_waiting_write));
    out.sample("btd_disk_jobs_waiting", {{"kind", "check"}},
               static_cast<double>(stats.disk_waiting_check));
    out.sample("btd_disk_jobs_waiting", {{"kind", "other"}},
               static_cast<double>(stats.disk_waiting_other));
    out.family("btd_disk_jobs_running", "gauge", "Disk pool jobs running now.");
    out.sample("btd_disk_jobs_running", static_cast<double>(stats.disk_running));
    out.family("btd_hashed_bytes_total", "counter",
               "Bytes SHA-1 hashed since btd started: by hash checks (kind=check) and for "
               "downloaded pieces (kind=download); rate() gives the hashing throughput.");
    out.sample("btd_hashed_bytes_total", {{"kind", "check"}},
               static_cast<double>(stats.hashed_check_bytes));
    out.sample("btd_hashed_bytes_total", {{"kind", "download"}},
               static_cast<double>(stats.hashed_download_bytes));
}

void write_dht(PromText& out, const SessionStats& stats) {
    if (!stats.dht_enabled) return;  // no series at all: "0 nodes" would read as an outage
    out.family("btd_dht_nodes", "gauge", "Nodes in the DHT routing tables (IPv4 and IPv6).");
    out.sample("btd_dht_nodes", static_cast<double>(stats.dht_nodes));
    out.family("btd_dht_lookups", "gauge", "DHT lookups in flight.");
    out.sample("btd_dht_lookups", static_cast<double>(stats.dht_lookups));
}

void write_events(PromText& out, const EventStream& events) {
    out.family("btd_event_clients", "gauge", "Clients connected to /events.");
    out.sample("btd_event_clients", static_cast<double>(events.client_count()));
    out.family("btd_event_clients_dropped_total", "counter",
               "/events clients dropped because they did not read.");
    out.sample("btd_event_clients_dropped_total", static_cast<double>(events.dropped_clients()));
}

void write_torrents(PromText& out, std::vector<TorrentStatus> torrents, std::size_t limit) {
    auto busier = [](const TorrentStatus& a, const TorrentStatus& b) {
        auto ra = a.download_rate + a.upload_rate, rb = b.download_rate + b.upload_rate;
        return ra != rb ? ra > rb : a.id < b.id;
    };
    auto shown = std::min(limit, torrents.size());
    std::partial_sort(torrents.begin(), torrents.begin() + static_cast<std::ptrdiff_t>(shown),
                      torrents.end(), busier);
    out.family("btd_torrent_series_omitted", "gauge",
               "Torrents left out of the per-torrent series (only the busiest are shown).");
    out.sample("btd_torrent_series_omitted", static_cast<double>(torrents.size() - shown));
    struct Series {
        const char* name;
        const char* type;
        const char* help;
        double (*value)(const TorrentStatus&);
    };
    static const Series kSeries[] = {
        {"btd_torrent_progress", "gauge", "Fraction of the wanted bytes verified (0..1).",
         [](const TorrentStatus& s) { return s.progress; }},
        {"btd_torrent_download_rate_bytes", "gauge", "Download rate of one torrent, bytes/s.",
         [](const TorrentStatus& s) { return static_cast<double>(s.download_rate); }},
        {"btd_torrent_upload_rate_bytes", "gauge", "Upload rate of one torrent, bytes/s.",
         [](const TorrentStatus& s) { return static_cast<double>(s.upload_rate); }},
        {"btd_torrent_peers", "gauge", "Connected peers of one torrent.",
         [](const TorrentStatus& s) { return static_cast<double>(s.peers); }},
    };
    for (const auto& series : kSeries) {
        out.family(series.name, series.type, series.help);
        for (std::size_t i = 0; i < shown; ++i)
            out.sample(series.name,
                       {{"info_hash", to_hex(torrents[i].id)}, {"name", torrents[i].name}},
                       series.value(torrents[i]));
    }
}

}  // namespace

std::string session_metrics_text(const Session& session, const RpcMetrics& rpc,
                                 const EventStream* events, std::size_t per_torrent_limit) {
    PromText out;
    auto stats = session.stats();
    write_session(out, stats);
    write_disk(out, stats);
    write_dht(out, stats);
    if (events) write_events(out, *events);
    rpc.write(out);
    write_torrents(out, session.list(), per_torrent_limit);
    return out.text();
}

}  // namespace btd::rpc::transport
