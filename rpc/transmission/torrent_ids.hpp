#pragma once
// Transmission's small integer torrent ids over btd's info-hashes, and the `ids` argument of
// torrent requests. Ids are handed out on first sight and kept for the life of the daemon (a
// torrent removed and added again gets its old id back). Network thread only.
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/session/session.hpp"

namespace btd::rpc::transmission {

using Clock = std::chrono::steady_clock;

class TorrentIds {
  public:
    // Gives every torrent of the session an id (in order of addition) and notes torrents that
    // have left it since the last call; call before each request. Walks only the session's ids
    // (and the statuses of all torrents only when one is new), so it costs next to nothing
    // with 10,000 torrents.
    void sync(const Session& session, Clock::time_point now);
    // sync() only if a torrent came or went since the last one: mark_changed() was called (on
    // the session's AddedEvent and RemovedEvent) or the session holds another number of them.
    void sync_if_changed(const Session& session, Clock::time_point now);
    void mark_changed() { changed_ = true; }
    int id_of(const Sha1Hash& hash) const;  // sync() must have seen it
    std::optional<Sha1Hash> hash_of(int id) const;
    // Ids of torrents that left the session at or after `since`.
    std::vector<int> removed_since(Clock::time_point since) const;

  private:
    struct Known {
        int id;
        std::uint64_t seen;  // the sync() that last found it in the session
    };
    int assign(const Sha1Hash& hash);
    void assign_new(const Session& session);
    void note_removals(Clock::time_point now);

    std::unordered_map<Sha1Hash, Known, Sha1HashHasher> ids_;
    std::map<int, Sha1Hash> hashes_;
    std::map<int, Clock::time_point> removed_at_;
    int next_ = 1;
    std::uint64_t sync_ = 0;
    bool changed_ = true;
    std::size_t present_ = 0;  // torrents in the session at the last sync()
};

// How long a torrent counts as "recently-active" after activity, addition or removal.
inline constexpr std::chrono::seconds kRecentlyActive{60};

// Which torrents `args["ids"]` names: absent (every torrent), a number, a hash string,
// "recently-active", or an array of numbers and hash strings. Unknown ids are skipped, as
// Transmission does.
class TorrentFilter {
  public:
    // Throws std::invalid_argument for a value of another shape.
    TorrentFilter(const nlohmann::json& args, const TorrentIds& ids);
    bool selects(const TorrentStatus& t, std::int64_t now_unix) const;
    bool recently_active() const { return recently_active_; }

  private:
    std::optional<std::unordered_set<Sha1Hash, Sha1HashHasher>> wanted_;  // nullopt: any
    bool recently_active_ = false;  // the request asked for "recently-active"
};

struct Selection {
    std::vector<TorrentStatus> torrents;  // ordered by id
    bool recently_active = false;         // the request asked for "recently-active"
};

// The statuses TorrentFilter(args, ids) selects, ordered by id; throws as TorrentFilter does.
Selection select_torrents(const nlohmann::json& args, const std::vector<TorrentStatus>& all,
                          const TorrentIds& ids, std::int64_t now_unix);

}  // namespace btd::rpc::transmission
