#include "rpc/transmission/torrent_ids.hpp"

#include <algorithm>
#include <stdexcept>

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;

bool is_recently_active(const TorrentStatus& t, std::int64_t now_unix) {
    return t.download_rate > 0 || t.upload_rate > 0 || t.state == TorrentState::checking ||
           now_unix - t.added_at < kRecentlyActive.count();
}

void add_selector(const json& value, const TorrentIds& ids,
                  std::unordered_set<Sha1Hash, Sha1HashHasher>& wanted) {
    if (value.is_number_integer()) {
        if (auto hash = ids.hash_of(value.get<int>())) wanted.insert(*hash);
        return;
    }
    if (value.is_string()) {
        if (auto hash = sha1_from_hex(value.get<std::string>()))
            wanted.insert(*hash);
        else
            throw std::invalid_argument("ids: \"" + value.get<std::string>() +
                                        "\" is neither a torrent id nor a 40-character hash");
        return;
    }
    throw std::invalid_argument(
        "ids must be a number, a hash string, \"recently-active\" or a list");
}

}  // namespace

void TorrentIds::sync(const Session& session, Clock::time_point now) {
    ++sync_;
    bool unseen = false;
    for (const auto& hash : session.ids()) {
        auto it = ids_.find(hash);
        if (it == ids_.end())
            unseen = true;
        else
            it->second.seen = sync_;
    }
    if (unseen) assign_new(session);
    note_removals(now);
    changed_ = false;
    present_ = session.torrent_count();
}

void TorrentIds::sync_if_changed(const Session& session, Clock::time_point now) {
    if (changed_ || present_ != session.torrent_count()) sync(session, now);
}

// New torrents get their ids in order of addition (the hash breaks ties).
void TorrentIds::assign_new(const Session& session) {
    std::vector<std::pair<std::int64_t, Sha1Hash>> unseen;
    session.for_each_status([&](const TorrentStatus& t) {
        if (!ids_.count(t.id)) unseen.emplace_back(t.added_at, t.id);
    });
    std::sort(unseen.begin(), unseen.end());
    for (const auto& [added_at, hash] : unseen) assign(hash);
}

void TorrentIds::note_removals(Clock::time_point now) {
    for (const auto& [hash, known] : ids_) {
        if (known.seen == sync_)
            removed_at_.erase(known.id);  // added again
        else
            removed_at_.try_emplace(known.id, now);
    }
}

int TorrentIds::assign(const Sha1Hash& hash) {
    int id = next_++;
    ids_.emplace(hash, Known{id, sync_});
    hashes_.emplace(id, hash);
    return id;
}

int TorrentIds::id_of(const Sha1Hash& hash) const {
    return ids_.at(hash).id;
}

std::optional<Sha1Hash> TorrentIds::hash_of(int id) const {
    auto it = hashes_.find(id);
    if (it == hashes_.end()) return std::nullopt;
    return it->second;
}

std::vector<int> TorrentIds::removed_since(Clock::time_point since) const {
    std::vector<int> out;
    for (const auto& [id, when] : removed_at_)
        if (when >= since) out.push_back(id);
    return out;
}

TorrentFilter::TorrentFilter(const json& args, const TorrentIds& ids) {
    auto it = args.find("ids");
    if (it == args.end() || it->is_null()) return;
    if (it->is_string() && it->get_ref<const std::string&>() == "recently-active") {
        recently_active_ = true;
    } else if (!(it->is_array() && it->empty())) {  // an empty list means every torrent
        wanted_.emplace();
        if (it->is_array())
            for (const auto& v : *it) add_selector(v, ids, *wanted_);
        else
            add_selector(*it, ids, *wanted_);
    }
}

bool TorrentFilter::selects(const TorrentStatus& t, std::int64_t now_unix) const {
    if (wanted_ && !wanted_->count(t.id)) return false;
    return !recently_active_ || is_recently_active(t, now_unix);
}

Selection select_torrents(const json& args, const std::vector<TorrentStatus>& all,
                          const TorrentIds& ids, std::int64_t now_unix) {
    TorrentFilter filter(args, ids);
    Selection out;
    out.recently_active = filter.recently_active();
    for (const auto& t : all)
        if (filter.selects(t, now_unix)) out.torrents.push_back(t);
    std::sort(out.torrents.begin(), out.torrents.end(),
              [&](const auto& a, const auto& b) { return ids.id_of(a.id) < ids.id_of(b.id); });
    return out;
}

}  // namespace btd::rpc::transmission
