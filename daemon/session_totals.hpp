#pragma once
// Cumulative session statistics (bytes up and down, torrents added, runs, seconds active),
// kept in <state>/session_totals.json across restarts, as Transmission's stats.json. The bytes
// of this run are counted per torrent from the engine's all-time totals, so a torrent removed
// later keeps what it moved. Network thread only; the file functions do I/O (call them off it,
// except load at start-up).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/hash.hpp"
#include "core/util/sha1_map.hpp"
#include "rpc/methods/session_totals.hpp"

namespace btd::daemon {

inline constexpr std::string_view kSessionTotalsFile = "session_totals.json";

// The file's JSON; nullopt for text that is not such an object (negative numbers included).
std::optional<rpc::SessionTotals> parse_session_totals(std::string_view text);
std::string session_totals_json(const rpc::SessionTotals& totals);
// Missing file: zeros. A corrupt one is set aside (logged) and counts as zeros.
rpc::SessionTotals load_session_totals(const std::filesystem::path& state_dir);
void save_session_totals(const std::filesystem::path& state_dir, const rpc::SessionTotals& t);

// This run's counters over the totals of earlier runs.
class SessionCounter {
  public:
    using Clock = std::chrono::steady_clock;

    SessionCounter(rpc::SessionTotals earlier, Clock::time_point started)
        : earlier_(earlier), started_(started) {}

    // A torrent's all-time totals as the engine reports them. The first report of a torrent is
    // its baseline (bytes from earlier runs); later ones add what moved since.
    void observe(const Sha1Hash& id, std::int64_t downloaded, std::int64_t uploaded);
    void forget(const Sha1Hash& id) { seen_.erase(id); }
    void count_added() { ++current_.files_added; }

    rpc::SessionTotalsPair totals(Clock::time_point now) const;

  private:
    struct Seen {
        std::int64_t downloaded = 0, uploaded = 0;
    };
    rpc::SessionTotals earlier_;
    rpc::SessionTotals current_;  // bytes and torrents added so far in this run
    Clock::time_point started_;
    Sha1Map<Seen> seen_;
};

}  // namespace btd::daemon
