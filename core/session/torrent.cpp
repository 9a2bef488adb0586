#include "core/session/torrent.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/session/piece_layout.hpp"
#include "core/session/torrent_status.hpp"
#include "core/storage/checker.hpp"
#include "core/storage/file_stat.hpp"
#include "core/storage/os_error.hpp"

// Lifecycle of a torrent job: construction, the check of existing data, start and stop, pause
// and resume, files that change under us, disk errors and file priorities. Peers are
// in torrent_peers.cpp, transfers in torrent_transfer.cpp, status in torrent_report.cpp.

namespace btd {

// On the pool: the file behind `e`, and every other file deleted or replaced meanwhile (a removed
// directory takes several at once), so one re-check covers them all.
std::vector<FileProblem> Torrent::changed_files_after(Storage& storage, const FileChangedError& e) {
    std::vector<FileProblem> out{{e.file(), e.reason()}};
    try {
        for (auto& p : storage.find_changed_files({}, false, false))
            if (p.file != e.file()) out.push_back(std::move(p));
    } catch (...) {  // the one file is enough to act on
    }
    return out;
}

// On the pool: writes a piece that passed its hash check.
PieceWriter::WriteResult Torrent::write_verified_piece(Storage& storage, int piece,
                                                       std::span<const std::uint8_t> data) {
    PieceWriter::WriteResult r;
    try {
        storage.write_piece(piece, data);
    } catch (const FileChangedError& e) {
        r.changed = changed_files_after(storage, e);
    } catch (const StorageError& e) {
        r.error = e.what();
        r.transient = is_transient_os_error(e.os_error());
    } catch (const std::exception& e) {
        r.error = e.what();
    }
    return r;
}

Torrent::Torrent(SessionContext& ctx, Metainfo meta, std::filesystem::path download_dir,
                 std::optional<ResumeData> resume, bool paused, std::int64_t added_at,
                 const std::vector<int>& file_priorities, bool sequential)
    : ctx_(ctx),
      shared_meta_(std::make_shared<Metainfo>(std::move(meta))),
      meta_(*shared_meta_),
      download_dir_(std::move(download_dir)),
      storage_(std::make_shared<Storage>(shared_meta_, download_dir_)),
      picker_(meta_.num_pieces(), meta_.piece_length, meta_.total_size),
      tuning_(ctx.settings.tuning),
      peer_list_(tuning_),
      pool_jobs_(ctx.disk, ctx.io),
      writer_(pool_jobs_, ctx.memory_in_use,
              [storage = storage_](int piece, std::span<const std::uint8_t> data) {
                  return write_verified_piece(*storage, piece, data);
              }),
      resume_(resume ? std::make_unique<ResumeData>(std::move(*resume)) : nullptr),
      paused_(paused),
      added_at_(added_at ? added_at : ctx_.clock.unix_seconds()) {
    file_priorities_.assign(meta_.files.size(), kPriorityDefault);
    if (resume_) {
        set_limits(resume_->limits);
        downloaded_base_ = resume_->total_downloaded;
        uploaded_base_ = resume_->total_uploaded;
        seconds_downloading_ = resume_->seconds_downloading;
        seconds_seeding_ = resume_->seconds_seeding;
        activity_at_ = resume_->activity_at;
        corrupt_bytes_ = resume_->corrupt_bytes;
        if (resume_->added_at) added_at_ = resume_->added_at;
        done_at_ = resume_->done_at;
        sequential = resume_->sequential;
    }
    if (!file_priorities.empty()) {
        piece_layout::check_file_priorities(meta_, file_priorities);
        file_priorities_.assign(file_priorities.begin(), file_priorities.end());
    }
    if (resume_ && !resume_->file_priorities.empty()) {
        try {
            piece_layout::check_file_priorities(meta_, resume_->file_priorities);
            file_priorities_.assign(resume_->file_priorities.begin(),
                                    resume_->file_priorities.end());
        } catch (const SessionError& e) {
            spdlog::warn("{}: saved file priorities ignored: {}", meta_.name, e.what());
        }
    }
    apply_file_priorities();
    picker_.set_sequential(sequential);
}

Torrent::~Torrent() {
    if (check_cancel_) *check_cancel_ = true;
    for (auto& [ptr, peer] : peers_) peer->detach();
    ctx_.connections -= static_cast<int>(peers_.size());
}

void Torrent::emit(EventPayload event) {
    ctx_.emit(SessionEvent{meta_.info_hash, std::move(event)});
}

// ---- lifecycle -------------------------------------------------------------------------------

void Torrent::start() {
    if (resume_ && ctx_.interrupted_moves.erase(meta_.info_hash)) return recover_move_then_start();
    auto to_check = pieces_to_check_after_resume();
    resume_.reset();
    begin_check(to_check);
}

// Every piece, unless the resume data fits: then only pieces touching files that changed.
std::vector<bool> Torrent::pieces_to_check_after_resume() {
    std::vector<bool> to_check(meta_.num_pieces(), true);
    if (!resume_ || static_cast<int>(resume_->have.size()) != meta_.num_pieces() ||
        resume_->files.size() != meta_.files.size())
        return to_check;
    auto now = stat_files(meta_, download_dir_);
    std::fill(to_check.begin(), to_check.end(), false);
    std::vector<FileIdentity> unchanged(meta_.files.size());
    for (std::size_t f = 0; f < meta_.files.size(); ++f) {
        if (meta_.files[f].pad) continue;
        if (resume_file_changed(resume_->files[f], now[f]))
            piece_layout::mark_file_pieces(meta_, static_cast<int>(f), to_check);
        else
            unchanged[f] = now[f];
    }
    // A byte that is not on disk is never had, whatever the resume data says.
    auto cut_short = piece_layout::pieces_past_file_ends(meta_, now);
    for (int p = 0; p < meta_.num_pieces(); ++p)
        if (!to_check[p] && !cut_short[p] && resume_->have[p] == '1') picker_.we_have(p);
    storage_->adopt_identities(unchanged);
    return to_check;
}

bool Torrent::resume_file_changed(const ResumeFile& saved, const FileIdentity& now) {
    if (now.size != saved.size || now.mtime != saved.mtime) return true;
    if (saved.inode != 0 && static_cast<std::uint64_t>(saved.inode) != now.inode) return true;
    return saved.mtime_ns >= 0 && saved.mtime_ns != now.mtime_ns;
}

void Torrent::begin_check(const std::vector<bool>& pieces_to_check) {
    bool any =
        std::find(pieces_to_check.begin(), pieces_to_check.end(), true) != pieces_to_check.end();
    if (any && !info_in_memory())
        return with_info([this, pieces_to_check] {
            if (!stopping_ && !checking_) begin_check(pieces_to_check);
        });
    pieces_to_check_ =
        static_cast<int>(std::count(pieces_to_check.begin(), pieces_to_check.end(), true));
    checked_pieces_ = 0;
    if (pieces_to_check_ == 0) return on_check_done();
    checking_ = true;
    emit(StateChangedEvent{.new_state = TorrentState::checking});
    check_cancel_ = std::make_shared<std::atomic<bool>>(false);
    disk_job_started();
    check_all_pieces(ctx_.disk, ctx_.io, storage_, pieces_to_check,
                     guarded([this](int piece, bool ok) {
                         ++checked_pieces_;
                         if (ok) picker_.we_have(piece);
                     }),
                     guarded([this] {
                         disk_job_finished();
                         if (!checking_) return;
                         checking_ = false;
                         on_check_done();
                     }),
                     check_cancel_, {.priority = added_at_});
}

void Torrent::on_check_done() {
    if (!recheck_pending_.empty() && !stopping_) return start_pending_recheck();
    spdlog::info("{}: {} of {} pieces present", meta_.name, picker_.have_bitfield().count(),
                 meta_.num_pieces());
    if (is_complete()) completed_announced_ = true;  // nothing to announce as newly completed
    pieces_arrived_ = false;  // what is there now was found by the check, not downloaded
    emit(ResumeDataChangedEvent{});
    if (may_activate()) activate();
    emit(StateChangedEvent{.new_state = status().state});
    if (finished()) on_completed();
    release_info_when_idle();
}

void Torrent::activate() {
    if (active() || relocating_) return;
    if (!info_in_memory())
        return with_info([this] {
            if (may_activate()) activate();
        });
    announcer_ = std::make_unique<tracker::Announcer>(
        ctx_.trackers, meta_.announce_tiers, meta_.info_hash, ctx_.peer_id,
        [&ctx = ctx_] { return ctx.listen_port; },
        [this] {
            tracker::TransferTotals t;
            t.uploaded = uploaded_base_ + upload_.total();
            t.downloaded = downloaded_base_ + download_.total();
            t.left = meta_.total_size - have_bytes();
            return t;
        },
        guarded([this](std::vector<Endpoint> endpoints) {
            add_peers(endpoints, PeerSource::tracker);
        }));
    announcer_->start();
}

void Torrent::deactivate(std::function<void()> trackers_stopped) {
    if (announcer_) {
        // The `stopped` announce completes on its own after the Announcer is destroyed.
        announcer_->stop([trackers_stopped = std::move(trackers_stopped)] {
            if (trackers_stopped) trackers_stopped();
        });
        announcer_.reset();
    } else if (trackers_stopped) {
        trackers_stopped();
    }
    auto peers = std::move(peers_);
    peers_.clear();
    ctx_.connections -= static_cast<int>(peers.size());
    for (auto& [ptr, peer] : peers) {
        picker_.abort_all(peer->state().key());
        if (peer->connected()) picker_.peer_lost_bitfield(peer->state().pieces());
        peer_list_.mark_disconnected(peer->remote(), ctx_.clock.now());
        peer->detach();
    }
    half_open_ = 0;
    download_.clear_rate();
    upload_.clear_rate();
    // Partly downloaded pieces are dropped to give their memory back.
    for (int piece : writer_.release_partial()) picker_.piece_failed(piece);
    picker_.release_idle_state();  // a paused torrent keeps only its have bits
    download_limit_.reset();       // peers still closing keep theirs
    upload_limit_.reset();
}

void Torrent::pause() {
    if (paused_) return;
    paused_ = true;
    deactivate();
    emit(StateChangedEvent{.new_state = TorrentState::paused});
    emit(ResumeDataChangedEvent{});
    release_info_when_idle();
}

void Torrent::resume() {
    if (!paused_ && error_.empty()) return;
    paused_ = false;
    error_.clear();
    seeding_since_ = ctx_.clock.now();  // the idle-seeding limit counts from here again
    if (may_activate()) activate();
    emit(StateChangedEvent{.new_state = status().state});
    emit(ResumeDataChangedEvent{});
}

void Torrent::verify() {
    if (checking_) return;
    deactivate();
    error_.clear();
    reset_picker();
    completed_announced_ = false;
    begin_check(std::vector<bool>(meta_.num_pieces(), true));
}

void Torrent::stop(std::function<void()> done) {
    stopping_ = true;
    cancel_check();
    // Done when both the trackers were told `stopped` and no disk job is left.
    auto pending = std::make_shared<int>(2);
    auto step = [pending, done = std::move(done)] {
        if (--*pending == 0) done();
    };
    deactivate(step);
    if (disk_jobs_ == 0)
        step();
    else
        on_disk_idle_.push_back(step);
}

void Torrent::when_disk_idle(std::function<void()> fn) {
    if (disk_jobs_ == 0) return fn();
    on_disk_idle_.push_back(std::move(fn));
}

void Torrent::delete_files(std::function<void()> done) {
    auto storage = storage_;
    ctx_.disk.submit(
        ctx_.io,
        [storage] {
            std::string error;
            try {
                storage->close_files();
                storage->delete_files();
            } catch (const std::exception& e) {
                error = e.what();
            }
            return error;
        },
        [done = std::move(done), name = meta_.name](std::string error) {
            if (!error.empty()) spdlog::warn("{}: deleting data: {}", name, error);
            done();
        });
}

// Only the flag: the checker stops at its next piece and calls nothing back, and no callback
// of ours may run while the Session is being destroyed.
void Torrent::cancel_disk_work() {
    if (check_cancel_) *check_cancel_ = true;
}

void Torrent::cancel_check() {
    if (!checking_) return;
    *check_cancel_ = true;  // the checker then calls nothing back, so account for it here
    checking_ = false;
    disk_job_finished();
}

void Torrent::recheck_files(const std::vector<FileProblem>& problems) {
    for (const auto& p : problems) {
        spdlog::warn("{}: '{}' {}; checking its pieces again", meta_.name,
                     (download_dir_ / meta_.files[p.file].path).string(), p.reason);
        recheck_pending_.insert(p.file);
    }
    if (!checking_ && !stopping_) start_pending_recheck();  // else on_check_done starts it
}

// The pieces of changed files stop counting (and being served) until a check says otherwise;
// peers are dropped so no request for them is in flight, and come back after the check.
void Torrent::start_pending_recheck() {
    std::vector<int> files(recheck_pending_.begin(), recheck_pending_.end());
    recheck_pending_.clear();
    deactivate();
    storage_->forget_files(files);
    std::vector<bool> to_check(meta_.num_pieces(), false);
    for (int f : files) piece_layout::mark_file_pieces(meta_, f, to_check);
    Bitfield had = picker_.have_bitfield();
    reset_picker();
    for (int p = 0; p < meta_.num_pieces(); ++p)
        if (had.test(p) && !to_check[p]) picker_.we_have(p);
    emit(ResumeDataChangedEvent{});
    begin_check(to_check);
}

void Torrent::check_files_on_disk() {
    if (files_check_running_ || checking_ || stopping_ || !error_.empty() || !active()) return;
    files_check_running_ = true;
    bool seeding = finished();  // btd writes nothing: size and mtime must not move either
    auto storage = storage_;
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage, seeding] {
            try {
                return storage->find_changed_files({}, seeding, false);
            } catch (...) {
                return std::vector<FileProblem>{};
            }
        },
        guarded([this](std::vector<FileProblem> problems) {
            disk_job_finished();
            files_check_running_ = false;
            if (!problems.empty() && !stopping_) recheck_files(problems);
        }));
}

void Torrent::disk_job_finished() {
    if (--disk_jobs_ > 0) return;
    auto waiters = std::move(on_disk_idle_);
    on_disk_idle_.clear();
    for (auto& w : waiters) w();
}

void Torrent::set_error(TorrentErrorCode code, const std::string& message) {
    spdlog::error("{}: {}", meta_.name, message);
    error_ = message;
    deactivate();
    emit(ErrorEvent{code, message});
}

// Out of space or descriptors usually passes (a file is deleted, a connection flood ends): stop
// for a while and start again, instead of an `error` only the user can clear. The wait doubles
// while writes keep failing and resets once a piece is written.
void Torrent::wait_out_disk_error(const std::string& message) {
    if (!disk_error_.empty()) return;  // already waiting: other pieces failed alongside
    disk_retry_delay_ =
        disk_retry_delay_.count()
            ? std::min<std::chrono::seconds>(disk_retry_delay_ * 2, tuning_.max_disk_retry)
            : tuning_.first_disk_retry;
    spdlog::warn("{}: {}; trying again in {} s", meta_.name, message, disk_retry_delay_.count());
    disk_error_ = message;
    deactivate();
    if (!disk_retry_timer_)
        disk_retry_timer_ = std::make_unique<boost::asio::steady_timer>(ctx_.io);
    disk_retry_timer_->expires_after(disk_retry_delay_);
    disk_retry_timer_->async_wait(guarded([this](const boost::system::error_code& ec) {
        if (ec) return;
        disk_error_.clear();
        if (!may_activate()) return;
        activate();
        emit(StateChangedEvent{.new_state = status().state});
    }));
}

void Torrent::set_limits(const TorrentLimits& limits) {
    torrent_status::merge_limits(limits_, limits);
    if (!download_limit_) return;  // applied when the limiters are made
    download_limit_->set_rate(limits_.download_rate_limit.value_or(0));
    upload_limit_->set_rate(limits_.upload_rate_limit.value_or(0));
}

void Torrent::make_rate_limiters() {
    if (download_limit_) return;
    download_limit_ = std::make_shared<RateLimiter>(ctx_.io, ctx_.clock);
    upload_limit_ = std::make_shared<RateLimiter>(ctx_.io, ctx_.clock);
    set_limits({});  // the torrent's own limits, unchanged
}

void Torrent::set_file_priorities(const std::vector<int>& priorities) {
    piece_layout::check_file_priorities(meta_, priorities);
    bool was_finished = finished();
    file_priorities_.assign(priorities.begin(), priorities.end());
    apply_file_priorities();
    move_parts_to_wanted_files();
    if (checking_ || !error_.empty() || was_finished == finished()) return;
    if (finished()) return on_completed();
    // More to download: back to work with the peers we have (and the seeds we dropped).
    completed_announced_ = is_complete();
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        update_interest(*peer);
        request_blocks(*peer);
    }
    connect_more();
    emit(StateChangedEvent{.new_state = status().state});
}

// A file wanted again gets the bytes kept for it in the part store now, not only when a piece
// of it is next written: all of its pieces may be verified already.
void Torrent::move_parts_to_wanted_files() {
    auto storage = storage_;
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage] {
            std::string error;
            try {
                storage->move_parts_to_wanted_files();
            } catch (const std::exception& e) {
                error = e.what();
            }
            return error;
        },
        guarded([this](std::string error) {
            disk_job_finished();
            if (!error.empty()) set_error(TorrentErrorCode::write_failed, error);
        }));
}

// A piece is as important as the most important file it holds; pad files do not count.
void Torrent::apply_file_priorities() {
    auto priorities = piece_layout::piece_priorities(meta_, file_priorities_);
    wanted_size_ = priorities.wanted_size;
    skips_files_ = priorities.skips_files;
    picker_.set_piece_priorities(priorities.pieces);
    storage_->set_skipped_files(std::move(priorities.skipped_files));
}

void Torrent::reset_picker() {
    bool sequential = picker_.sequential();
    picker_ = PiecePicker(meta_.num_pieces(), meta_.piece_length, meta_.total_size);
    picker_.set_sequential(sequential);
    apply_file_priorities();
}

}  // namespace btd
