#pragma once
// Session statistics the daemon keeps across restarts (Transmission's current-stats and
// cumulative-stats), handed to the RPC methods by a callback: the rpc library does not know
// where they are stored. Network thread only.
#include <cstdint>
#include <functional>

namespace btd::rpc {

struct SessionTotals {
    std::int64_t uploaded = 0;        // payload bytes
    std::int64_t downloaded = 0;      // payload bytes
    std::int64_t files_added = 0;     // torrents added (restored jobs do not count)
    std::int64_t session_count = 0;   // daemon runs
    std::int64_t seconds_active = 0;  // seconds the daemon ran
};

struct SessionTotalsPair {
    SessionTotals current;     // this run of the daemon
    SessionTotals cumulative;  // every run so far, this one included
};

// Unset: the methods fall back to what the Session alone knows (this run, torrents now in it).
using SessionTotalsSource = std::function<SessionTotalsPair()>;

}  // namespace btd::rpc
