#include "rpc/methods/session_event_feed.hpp"

namespace btd::rpc::transport {
namespace {

using nlohmann::json;

json torrent_fields(const TorrentStatus& s) {
    return {{"id", to_hex(s.id)},
            {"progress", s.progress},
            {"download_rate", s.download_rate},
            {"upload_rate", s.upload_rate},
            {"peers", s.peers},
            {"seeds", s.seeds},
            {"state", to_string(s.state)},
            {"eta", s.eta},
            {"downloaded", s.downloaded},
            {"uploaded", s.uploaded}};
}

// The stream's name and data of a discrete event; an empty name: not sent.
std::pair<const char*, json> describe(const SessionEvent& e) {
    if (auto* added = e.get<AddedEvent>()) return {"torrent-added", {{"name", added->name}}};
    if (auto* change = e.get<StateChangedEvent>())
        return {"state-changed",
                {{"state", to_string(change->new_state)}, {"from", to_string(change->old_state)}}};
    if (auto* meta = e.get<MetadataReceivedEvent>())
        return {"metadata-received", {{"name", meta->name}}};
    if (e.get<CompletedEvent>()) return {"completed", json::object()};
    if (auto* error = e.get<ErrorEvent>())
        return {"error", {{"message", error->message}, {"code", to_string(error->code)}}};
    if (auto* removed = e.get<RemovedEvent>()) return {"removed", {{"name", removed->name}}};
    return {"", nullptr};
}

}  // namespace

void StatsFeed::add(const StatsEvent& stats) {
    const auto& s = stats.session;
    totals_ = {{"download_rate", s.download_rate}, {"upload_rate", s.upload_rate},
               {"downloaded", s.downloaded},       {"uploaded", s.uploaded},
               {"torrents", s.torrents},           {"peers", s.peers}};
    for (const auto& status : stats.torrents) changed_[to_hex(status.id)] = torrent_fields(status);
}

json StatsFeed::next() {
    if (totals_.is_null()) return nullptr;
    json out = std::move(totals_);
    totals_ = nullptr;
    json changed = json::array();
    for (auto& [id, fields] : changed_) changed.push_back(std::move(fields));
    changed_.clear();
    out["changed"] = std::move(changed);
    return out;
}

void publish_session_event(EventStream& stream, StatsFeed& stats, const Session& session,
                           const SessionEvent& e) {
    if (auto* report = e.get<StatsEvent>()) {
        // Nobody to send it to: nothing is kept (a churn of torrents must not pile up here).
        if (stream.client_count() > 0) stats.add(*report);
        return;
    }
    auto [type, data] = describe(e);
    if (*type == '\0') return;
    data["id"] = to_hex(e.id);
    if (!data.contains("name") && session.contains(e.id))
        data["name"] = session.metainfo(e.id).name;
    stream.publish(type, data);
}

}  // namespace btd::rpc::transport
