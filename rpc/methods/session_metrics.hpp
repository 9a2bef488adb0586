#pragma once
// The /metrics page: session rates and totals (the same numbers as session.stats), torrents by
// state, peers, event-stream clients, RPC calls and latency, and per-torrent series for the
// `per_torrent_limit` busiest torrents (by current download + upload rate), so a scrape of a
// session with 10,000 torrents stays small. Network thread only.
#include <cstddef>
#include <string>

#include "core/session/session.hpp"
#include "rpc/transport/event_stream.hpp"
#include "rpc/transport/rpc_metrics.hpp"

namespace btd::rpc::transport {

inline constexpr std::size_t kMetricsTorrentLimit = 50;

// `events` may be null (no /events).
std::string session_metrics_text(const Session& session, const RpcMetrics& rpc,
                                 const EventStream* events,
                                 std::size_t per_torrent_limit = kMetricsTorrentLimit);

}  // namespace btd::rpc::transport
