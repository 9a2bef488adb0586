#pragma once
// The adapter from the engine's typed events (core/session/types.hpp) to `/events`: the one
// file that knows SessionEvent. Network thread only.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/session/session.hpp"
#include "rpc/transport/event_stream.hpp"

namespace btd::rpc::transport {

// Coalesces the engine's StatsEvents into the stream's `stats` snapshots: the latest session
// totals and, per torrent, the latest status of every torrent that changed since the last
// snapshot sent (so no change is lost when two engine reports fall into one interval).
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's destructor may allocate.
class StatsFeed {
  public:
    void add(const StatsEvent& stats);
    nlohmann::json next();  // null when nothing arrived since the last call

  private:
    nlohmann::json totals_;                          // null: nothing pending
    std::map<std::string, nlohmann::json> changed_;  // id -> latest fields
};

// Sends `event` to the stream: torrent-added, state-changed, metadata-received, completed,
// error and removed as discrete events; StatsEvent into `stats` (only while clients listen);
// the rest stays inside btd.
// `session` names the torrent while it is still there.
void publish_session_event(EventStream& stream, StatsFeed& stats, const Session& session,
                           const SessionEvent& event);

}  // namespace btd::rpc::transport
