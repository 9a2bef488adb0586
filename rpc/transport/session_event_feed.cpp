#include "rpc/transport/session_event_feed.hpp"

namespace btd::rpc::transport {
namespace {

using json = nlohmann::json;

const char* stream_type(SessionEvent::Kind kind) {
    using Kind = SessionEvent::Kind;
    switch (kind) {
        case Kind::added:
            return "torrent-added";
        case Kind::state_changed:
            return "state-changed";
        case Kind::completed:
            return "completed";
        case Kind::error:
            return "error";
        case Kind::removed:
            return "removed";
        default:
            return nullptr;  // piece and resume-data events stay inside the daemon
    }
}

json torrent_fields(const TorrentStatus& s) {
    return {{"progress", s.progress},
            {"download_rate", s.download_rate},
            {"upload_rate", s.upload_rate},
            {"peers", s.peers},
            {"seeds", s.seeds},
            {"state", to_string(s.state)},
            {"eta", s.eta},
            {"downloaded", s.downloaded},
            {"uploaded", s.uploaded}};
}

}  // namespace

void publish_session_event(EventStream& stream, const Session& session, const SessionEvent& e) {
    const char* type = stream_type(e.kind);
    if (!type) return;
    json data = {{"id", to_hex(e.id)}};
    bool known = session.contains(e.id);
    if (known) data["name"] = session.metainfo(e.id).name;
    switch (e.kind) {
        case SessionEvent::Kind::state_changed:
            data["state"] = e.message;
            break;
        case SessionEvent::Kind::error:
            data["message"] = e.message;
            break;
        case SessionEvent::Kind::added:
        case SessionEvent::Kind::removed:
            if (!known && !e.message.empty()) data["name"] = e.message;
            break;
        default:
            break;
    }
    stream.publish(type, data);
}

json StatsFeed::next() {
    auto stats = session_.stats();
    json totals = {{"download_rate", stats.download_rate}, {"upload_rate", stats.upload_rate},
                   {"downloaded", stats.downloaded},       {"uploaded", stats.uploaded},
                   {"torrents", stats.torrents},           {"peers", stats.peers}};
    json changed = json::array();
    std::map<std::string, json> now;
    for (const auto& status : session_.list()) {
        auto id = to_hex(status.id);
        auto fields = torrent_fields(status);
        auto before = last_.find(id);
        if (before == last_.end() || before->second != fields) {
            json entry = fields;
            entry["id"] = id;
            changed.push_back(std::move(entry));
        }
        now.emplace(std::move(id), std::move(fields));
    }
    bool same = changed.empty() && totals == last_totals_ && now.size() == last_.size();
    last_ = std::move(now);
    last_totals_ = totals;
    if (same) return nullptr;
    totals["changed"] = std::move(changed);
    return totals;
}

}  // namespace btd::rpc::transport
