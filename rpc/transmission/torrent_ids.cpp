#include "rpc/transmission/torrent_ids.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;

bool recently_active(const TorrentStatus& t, std::int64_t now_unix) {
    return t.download_rate > 0 || t.upload_rate > 0 || t.state == TorrentState::checking ||
           now_unix - t.added_at < kRecentlyActive.count();
}

void add_selector(const json& value, const TorrentIds& ids, std::set<Sha1Hash>& wanted) {
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

void TorrentIds::sync(const std::vector<TorrentStatus>& torrents, Clock::time_point now) {
    std::vector<const TorrentStatus*> unseen;
    std::set<Sha1Hash> present;
    for (const auto& t : torrents) {
        present.insert(t.id);
        if (!ids_.count(t.id)) unseen.push_back(&t);
    }
    std::sort(unseen.begin(), unseen.end(), [](auto* a, auto* b) {
        return std::tie(a->added_at, a->id) < std::tie(b->added_at, b->id);
    });
    for (auto* t : unseen) assign(t->id);
    for (const auto& [hash, id] : ids_) {
        if (present.count(hash))
            removed_at_.erase(id);  // added again
        else
            removed_at_.try_emplace(id, now);
    }
}

int TorrentIds::assign(const Sha1Hash& hash) {
    int id = next_++;
    ids_.emplace(hash, id);
    hashes_.emplace(id, hash);
    return id;
}

int TorrentIds::id_of(const Sha1Hash& hash) const {
    return ids_.at(hash);
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

Selection select_torrents(const json& args, const std::vector<TorrentStatus>& all,
                          const TorrentIds& ids, std::int64_t now_unix) {
    Selection out;
    auto it = args.find("ids");
    std::optional<std::set<Sha1Hash>> wanted;
    if (it != args.end() && !it->is_null()) {
        if (it->is_string() && it->get<std::string>() == "recently-active") {
            out.recently_active = true;
        } else if (!(it->is_array() && it->empty())) {  // an empty list means every torrent
            wanted.emplace();
            if (it->is_array())
                for (const auto& v : *it) add_selector(v, ids, *wanted);
            else
                add_selector(*it, ids, *wanted);
        }
    }
    for (const auto& t : all) {
        if (wanted && !wanted->count(t.id)) continue;
        if (out.recently_active && !recently_active(t, now_unix)) continue;
        out.torrents.push_back(t);
    }
    std::sort(out.torrents.begin(), out.torrents.end(),
              [&](const auto& a, const auto& b) { return ids.id_of(a.id) < ids.id_of(b.id); });
    return out;
}

}  // namespace btd::rpc::transmission
