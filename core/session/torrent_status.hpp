#pragma once
// The rules behind a torrent's status and its seeding limits: which state it shows, its progress,
// ETA and ratio, and when seeding stops. Pure functions of the torrent's figures; any thread; the
// caller passes `now`.
#include <chrono>
#include <string>

#include "core/session/types.hpp"

namespace btd::torrent_status {

using Clock = std::chrono::steady_clock;

// What a torrent is doing, as far as the status is concerned.
struct Phase {
    bool error = false;  // stopped on an error only the user can clear
    bool paused = false;
    bool checking = false;
    bool finished = false;  // every wanted piece verified
    int checked_pieces = 0;
    int pieces_to_check = 0;
    bool queued = false;  // waiting for a download or seeding slot (queue.hpp)
};

// Sets every member of `s` to its default, keeping the capacity of its strings and vectors, so
// one status can be filled for torrent after torrent without allocating (Session::for_each_status).
void reset_keeping_capacity(TorrentStatus& s);

// Fills s.state, s.progress, s.eta and s.ratio from `phase` and the byte counts already in `s`
// (size, have_bytes, downloaded, uploaded, download_rate).
void derive(TorrentStatus& s, const Phase& phase);

// Why seeding should stop now ("" = go on): the ratio limit (0 = none) or no upload for
// `idle_limit_s` seconds (0 = never) since the later of the last upload and the start of seeding.
// A default `seeding_since` means seeding has not started yet (the last piece is verified but the
// completion check is still on the disk pool): no idle time counts.
std::string seed_limit_reached(double ratio, double ratio_limit, std::int64_t idle_limit_s,
                               Clock::time_point now, Clock::time_point last_upload,
                               Clock::time_point seeding_since);

// Applies a torrent.set change to a torrent's own limits: a value given replaces the old one, a
// negative ratio_limit or seed_idle_limit drops it (the session's limit applies again).
void merge_limits(TorrentLimits& own, const TorrentLimits& change);

}  // namespace btd::torrent_status
