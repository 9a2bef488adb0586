#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/session/piece_layout.hpp"
#include "core/session/request_scheduler.hpp"
#include "core/session/torrent.hpp"
#include "core/session/torrent_status.hpp"

// What a torrent reports (status, details, resume data) and its once-a-second housekeeping.

namespace btd {
// ---- status ----------------------------------------------------------------------------------

std::int64_t Torrent::have_bytes() const {
    return piece_layout::have_bytes(meta_, picker_.have_bitfield());
}

TorrentStatus Torrent::status() const {
    TorrentStatus s;
    fill_status(s);
    return s;
}

void Torrent::fill_status(TorrentStatus& s) const {
    auto last_dir = std::move(s.download_dir);  // most torrents share one: kept, not copied
    torrent_status::reset_keeping_capacity(s);
    s.id = meta_.info_hash;
    s.name.assign(meta_.name);
    s.total_size = meta_.total_size;
    s.sequential = picker_.sequential();
    const auto& have = picker_.have_bitfield();
    if (skips_files_) {
        s.size = wanted_size_;
        for (std::size_t f = 0; f < meta_.files.size(); ++f)
            if (file_priorities_[f] != kPriorityDontDownload && !meta_.files[f].pad)
                s.have_bytes += piece_layout::file_have_bytes(meta_, meta_.files[f], have);
    } else {
        s.size = meta_.total_size;
        s.have_bytes = have_bytes();
    }
    s.downloaded = downloaded_base_ + download_.total();
    s.uploaded = uploaded_base_ + upload_.total();
    s.download_rate = download_.rate();
    s.upload_rate = upload_.rate();
    if (last_dir.native() == download_dir_.native())
        s.download_dir = std::move(last_dir);
    else
        s.download_dir = download_dir_;
    s.added_at = added_at_;
    s.done_at = done_at_;
    s.seconds_downloading = seconds_downloading_;
    s.seconds_seeding = seconds_seeding_;
    s.activity_at = activity_at_;
    s.started_at = started_at_;
    s.corrupt_bytes = corrupt_bytes_;
    s.desired_available = desired_available();
    s.manual_announce_at = manual_announce_at();
    s.error.assign(error_.empty() ? disk_error_ : error_);  // a transient one shows, state same
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        ++s.peers;
        if (peer->state().is_seed()) ++s.seeds;
    }
    torrent_status::derive(s, {!error_.empty(), paused_, checking_, finished(), checked_pieces_,
                               pieces_to_check_, queued_});
}

TorrentDetails Torrent::details() const {
    TorrentDetails d;
    d.status = status();
    d.pieces = picker_.have_bitfield().to_string();
    d.piece_length = meta_.piece_length;
    d.is_private = meta_.is_private;
    d.comment = meta_.comment;
    d.limits = limits_;
    for (std::size_t f = 0; f < meta_.files.size(); ++f) {
        const auto& file = meta_.files[f];
        FileStatus fs;
        fs.path = file.path.generic_string();
        fs.size = file.length;
        fs.pad = file.pad;
        fs.priority = file_priorities_[f];
        fs.have_bytes = piece_layout::file_have_bytes(meta_, file, picker_.have_bitfield());
        d.files.push_back(std::move(fs));
    }
    if (announcer_) d.trackers = announcer_->status();
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        PeerStatus ps;
        ps.address = endpoint_string(peer->remote());
        const auto& st = peer->state();
        ps.client = st.client();
        ps.progress = meta_.num_pieces() ? double(st.pieces().count()) / meta_.num_pieces() : 0;
        ps.download_rate = st.download().rate();
        ps.upload_rate = st.upload().rate();
        ps.flags = st.flags();
        ps.incoming = peer->incoming();
        ps.source = peer->incoming() ? PeerSource::incoming
                                     : peer_list_.source_of(peer->remote()).value_or(ps.source);
        d.peers.push_back(std::move(ps));
    }
    return d;
}

// ---- resume data -----------------------------------------------------------------------------

void Torrent::save_resume_data(std::function<void(ResumeData)> done) {
    ResumeData rd;
    rd.have = picker_.have_bitfield().to_string();
    rd.paused = paused_;
    rd.total_downloaded = downloaded_base_ + download_.total();
    rd.total_uploaded = uploaded_base_ + upload_.total();
    rd.added_at = added_at_;
    rd.done_at = done_at_;
    rd.seconds_downloading = seconds_downloading_;
    rd.seconds_seeding = seconds_seeding_;
    rd.activity_at = activity_at_;
    rd.corrupt_bytes = corrupt_bytes_;
    rd.download_dir = download_dir_;
    rd.limits = limits_;
    if (std::any_of(file_priorities_.begin(), file_priorities_.end(),
                    [](auto p) { return p != kPriorityDefault; }))
        rd.file_priorities.assign(file_priorities_.begin(), file_priorities_.end());
    rd.sequential = picker_.sequential();
    auto storage = storage_;
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage] {
            try {
                storage->flush();
            } catch (const std::exception& e) {
                spdlog::warn("flush before saving resume data: {}", e.what());
            }
            return storage->identities_for_resume();
        },
        [this, weak = std::weak_ptr<bool>(alive_), rd = std::move(rd),
         done = std::move(done)](std::vector<ResumeFileInfo> stats) mutable {
            for (auto& s : stats)
                rd.files.push_back({s.size, s.mtime, static_cast<std::int64_t>(s.inode),
                                    s.exists() ? s.mtime_ns : -1});
            if (weak.lock()) disk_job_finished();
            done(std::move(rd));
        });
}

// ---- housekeeping ----------------------------------------------------------------------------

bool Torrent::idle() const {
    return !active() && peers_.empty() && !checking_ && download_.rate() == 0 &&
           upload_.rate() == 0;
}

void Torrent::tick() {
    download_.tick();
    upload_.tick();
    // Running: announced and open to peers (not paused, queued, checking, moving or in error).
    bool running = active() && !checking_ && !stopping_ && !relocating_;
    if (running) ++(finished() ? seconds_seeding_ : seconds_downloading_);
    note_activity(running);
    auto now = ctx_.clock.now();
    std::vector<PeerConnection*> to_close;
    for (auto& [ptr, peer] : peers_) {
        peer->state().tick();
        if (!peer->connected()) continue;
        if (now - peer->last_receive() > tuning_.inactivity_timeout)
            to_close.push_back(ptr);
        else
            tick_peer(*peer, now);
    }
    for (auto* ptr : to_close)
        ptr->close("no message for " + std::to_string(tuning_.inactivity_timeout.count()) + " s");
    ++tick_count_;
    if (tick_count_ % tuning_.rechoke_every_s == 0)
        rechoke(tick_count_ % tuning_.optimistic_every_s == 0);
    if (tick_count_ % tuning_.files_check_every_s == 0) check_files_on_disk();
    check_seed_limits();
    send_pex(now);
    connect_more();
}

// Transmission's desiredAvailable. O(pieces), so only while peers are connected: a paused or
// peerless torrent (most of a 10,000-torrent daemon) answers 0 at once.
std::int64_t Torrent::desired_available() const {
    if (peers_.empty() || finished()) return 0;
    std::int64_t bytes = 0;
    for (int piece = 0; piece < meta_.num_pieces(); ++piece)
        if (picker_.wants(piece) && picker_.availability(piece) > 0)
            bytes += meta_.piece_size(piece);
    return bytes;
}

std::int64_t Torrent::manual_announce_at() const {
    if (!announcer_) return 0;
    // The announcer keeps its own (real) steady clock: only the wait crosses the seam.
    auto wait = announcer_->manual_announce_at() - std::chrono::steady_clock::now();
    return ctx_.clock.unix_seconds() +
           std::chrono::duration_cast<std::chrono::seconds>(wait).count();
}

// Dates for dashboards (Transmission's activityDate and startDate), to the second of a tick.
void Torrent::note_activity(bool running) {
    auto payload = download_.total() + upload_.total();
    if (payload != payload_seen_) activity_at_ = ctx_.clock.unix_seconds();
    payload_seen_ = payload;
    if (running && !was_running_) started_at_ = ctx_.clock.unix_seconds();
    was_running_ = running;
}

// The pipeline follows the peer's rate; a peer that stopped delivering is snubbed: its blocks go
// to others and it is asked for very little until it delivers.
void Torrent::tick_peer(PeerConnection& peer, Clock::time_point now) {
    auto& st = peer.state();
    if (!st.requests().empty() &&
        request_scheduler::snubbed(now, st.last_block(), st.requests().front().sent, tuning_)) {
        st.snub();
        drop_requests(peer);
        st.set_queue_target(1);
    } else if (!st.snubbed()) {
        st.set_queue_target(
            request_scheduler::queue_target(st.download().rate(), st.request_limit(), tuning_));
    }
    if (now - peer.last_send() > tuning_.keep_alive_interval) {
        std::string ka;
        wire::append_keep_alive(ka);
        peer.send(ka);
    }
    request_blocks(peer);
}

}  // namespace btd
