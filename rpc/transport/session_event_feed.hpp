#pragma once
// The adapter from the engine's events to `/events`: the one file that knows SessionEvent, so
// the switch to typed events changes only this file. Network thread only.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/session/session.hpp"
#include "rpc/transport/event_stream.hpp"

namespace btd::rpc::transport {

// Publishes `event` as torrent-added, state-changed, completed, error or removed (others are
// not sent). `session` names the torrent while it is still there.
void publish_session_event(EventStream& stream, const Session& session, const SessionEvent& event);

// Makes the `stats` snapshots: session rates and totals, and the torrents whose progress, rates,
// peers or state changed since the previous snapshot (so 10,000 idle torrents cost nothing).
// Null when nothing changed at all.
class StatsFeed {
  public:
    explicit StatsFeed(const Session& session) : session_(session) {}
    nlohmann::json next();

  private:
    const Session& session_;
    std::map<std::string, nlohmann::json> last_;  // id -> the fields last sent
    nlohmann::json last_totals_;
};

}  // namespace btd::rpc::transport
