#pragma once
// Transmission's small integer torrent ids over btd's info-hashes, and the `ids` argument of
// torrent requests. Ids are handed out on first sight and kept for the life of the daemon (a
// torrent removed and added again gets its old id back). Network thread only.
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/session/session.hpp"

namespace btd::rpc::transmission {

using Clock = std::chrono::steady_clock;

class TorrentIds {
  public:
    // Gives every torrent of the session an id (in order of addition) and notes torrents that
    // have left it since the last call; call before each request.
    void sync(const std::vector<TorrentStatus>& torrents, Clock::time_point now);
    int id_of(const Sha1Hash& hash) const;  // sync() must have seen it
    std::optional<Sha1Hash> hash_of(int id) const;
    // Ids of torrents that left the session at or after `since`.
    std::vector<int> removed_since(Clock::time_point since) const;

  private:
    int assign(const Sha1Hash& hash);

    std::map<Sha1Hash, int> ids_;
    std::map<int, Sha1Hash> hashes_;
    std::map<int, Clock::time_point> removed_at_;
    int next_ = 1;
};

// How long a torrent counts as "recently-active" after activity, addition or removal.
inline constexpr std::chrono::seconds kRecentlyActive{60};

struct Selection {
    std::vector<TorrentStatus> torrents;  // ordered by id
    bool recently_active = false;         // the request asked for "recently-active"
};

// Resolves `args["ids"]`: absent (every torrent), a number, a hash string, "recently-active", or
// an array of numbers and hash strings. Unknown ids are skipped, as Transmission does; a value of
// another shape throws std::invalid_argument.
Selection select_torrents(const nlohmann::json& args, const std::vector<TorrentStatus>& all,
                          const TorrentIds& ids, std::int64_t now_unix);

}  // namespace btd::rpc::transmission
