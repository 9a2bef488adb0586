#include "core/session/torrent_status.hpp"

#include <algorithm>

namespace btd::torrent_status {

namespace {
// Paused wins over checking: the user asked for it (the check still completes meanwhile).
TorrentState state_of(const Phase& p) {
    if (p.error) return TorrentState::error;
    if (p.paused) return TorrentState::paused;
    if (p.checking) return TorrentState::checking;
    if (p.queued) return TorrentState::queued;
    if (p.finished) return TorrentState::seeding;
    return TorrentState::downloading;
}
}  // namespace

void reset_keeping_capacity(TorrentStatus& s) {
    auto name = std::move(s.name);
    auto error = std::move(s.error);
    auto download_dir = std::move(s.download_dir);
    auto labels = std::move(s.labels);
    s = TorrentStatus{};
    name.clear();
    error.clear();
    download_dir.clear();
    labels.clear();
    s.name = std::move(name);
    s.error = std::move(error);
    s.download_dir = std::move(download_dir);
    s.labels = std::move(labels);
}

void derive(TorrentStatus& s, const Phase& phase) {
    s.state = state_of(phase);
    if (phase.checking)
        s.progress =
            phase.pieces_to_check ? double(phase.checked_pieces) / phase.pieces_to_check : 0;
    else
        s.progress = s.size ? double(s.have_bytes) / double(s.size) : 1.0;
    if (s.state == TorrentState::downloading && s.download_rate > 0)
        s.eta = (s.size - s.have_bytes) / s.download_rate;
    // A torrent seeded from data it never downloaded counts its ratio against its size.
    std::int64_t ratio_base = s.downloaded > 0 ? s.downloaded : (s.have_bytes > 0 ? s.size : 0);
    s.ratio = ratio_base ? double(s.uploaded) / double(ratio_base) : 0;
}

std::string seed_limit_reached(double ratio, double ratio_limit, std::int64_t idle_limit_s,
                               Clock::time_point now, Clock::time_point last_upload,
                               Clock::time_point seeding_since) {
    std::string reason;
    if (ratio_limit > 0 && ratio >= ratio_limit) reason = "ratio limit reached";
    auto since = std::max(last_upload, seeding_since);
    bool seeding_started = seeding_since != Clock::time_point{};
    if (idle_limit_s > 0 && seeding_started && now - since > std::chrono::seconds(idle_limit_s))
        reason = "seeding idle limit reached";
    return reason;
}

void merge_limits(TorrentLimits& own, const TorrentLimits& change) {
    if (change.download_rate_limit) own.download_rate_limit = change.download_rate_limit;
    if (change.upload_rate_limit) own.upload_rate_limit = change.upload_rate_limit;
    if (change.ratio_limit)
        own.ratio_limit = *change.ratio_limit < 0 ? std::nullopt : change.ratio_limit;
    if (change.seed_idle_limit)
        own.seed_idle_limit = *change.seed_idle_limit < 0 ? std::nullopt : change.seed_idle_limit;
}

}  // namespace btd::torrent_status
