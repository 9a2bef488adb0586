#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "core/session/torrent.hpp"
#include "core/storage/file_stat.hpp"
#include "core/storage/move_journal.hpp"
#include "core/storage/relocate.hpp"

// What a torrent does for the download queue, a manual announce and moving its data.

namespace btd {

bool Torrent::may_activate() const {
    return !paused_ && !queued_ && !checking_ && !relocating_ && !stopping_ && error_.empty() &&
           disk_error_.empty();
}

// Reported only when the torrent starts or stops running: while it checks, is paused or is not
// started yet, only the flag changes (its state then shows whatever wins over `queued`).
void Torrent::set_queued(bool queued) {
    if (queued == queued_) return;
    queued_ = queued;
    bool was_active = active();
    if (queued && was_active)
        deactivate();
    else if (!queued && may_activate())
        activate();
    if (was_active != active()) emit(StateChangedEvent{.new_state = status().state});
}

void Torrent::reannounce() {
    if (announcer_) announcer_->reannounce_now();
}

void Torrent::relocate(std::filesystem::path dir, bool move,
                       std::function<void(std::string)> done) {
    relocating_ = true;
    deactivate();
    bool was_checking = checking_;
    cancel_check();
    if (was_checking) reset_picker();  // its have-bits were incomplete: checked again below
    auto journal = move_journal_path(ctx_.settings.move_journal_dir, meta_.info_hash);
    auto work = [storage = storage_, from = download_dir_, dir, move, journal]() -> std::string {
        try {
            storage->flush();
            storage->close_files();
            remove_move_journal(journal);  // an earlier move's, now recorded (or being replaced)
            if (move) move_torrent_data(storage->metainfo(), from, dir, journal);
            storage->set_download_dir(dir);
            // Copied files are new inodes: they hold the data btd verified all the same.
            if (move) storage->adopt_identities(stat_files(storage->metainfo(), dir));
            return {};
        } catch (const std::exception& e) {
            return e.what();
        }
    };
    auto finish = guarded([this, dir, move, done = std::move(done)](std::string error) {
        disk_job_finished();
        finish_relocate(dir, move, error);
        if (done) done(error);
    });
    // The files move only while no other disk job of this torrent runs. Each wait is posted once
    // more: the last job's continuation may start another (a completion check), waited for too.
    auto attempt = std::make_shared<std::function<void()>>();
    auto wait_then = [this](std::shared_ptr<std::function<void()>> step) {
        when_disk_idle(
            [this, step] { boost::asio::post(ctx_.io, guarded([step] { (*step)(); })); });
    };
    *attempt = [this, weak = std::weak_ptr(attempt), wait_then, work, finish] {
        if (stopping_) return;  // removed meanwhile: the removal owns the files now
        if (disk_jobs_ > 0) return wait_then(weak.lock());
        disk_job_started();
        ctx_.disk.submit(ctx_.io, work, finish);
    };
    wait_then(attempt);
}

void Torrent::recover_move_then_start() {
    relocating_ = true;
    disk_job_started();
    auto journal = move_journal_path(ctx_.settings.move_journal_dir, meta_.info_hash);
    auto work = [storage = storage_, journal, dir = download_dir_] {
        std::string log;
        auto now = recover_move(journal, dir, log);
        if (now != dir) storage->set_download_dir(now);
        return std::pair(now, log);
    };
    ctx_.disk.submit(ctx_.io, work,
                     guarded([this](std::pair<std::filesystem::path, std::string> r) {
                         disk_job_finished();
                         relocating_ = false;
                         if (!r.second.empty()) spdlog::warn("{}: {}", meta_.name, r.second);
                         if (r.first != download_dir_) {
                             download_dir_ = r.first;
                             emit(ResumeDataChangedEvent{});
                         }
                         if (!stopping_) start();
                     }));
}

void Torrent::finish_relocate(const std::filesystem::path& dir, bool move,
                              const std::string& error) {
    relocating_ = false;
    if (!error.empty()) {
        set_error(TorrentErrorCode::write_failed, "moving the data to " + dir.string() +
                                                      " failed (it stays in " +
                                                      download_dir_.string() + "): " + error);
        return;
    }
    spdlog::info("{}: data {} {}", meta_.name, move ? "moved to" : "now looked for in",
                 dir.string());
    download_dir_ = dir;
    emit(ResumeDataChangedEvent{});
    if (!move || picker_.have_bitfield().count() == 0) {
        // Whatever is at the new place is what counts: every piece is checked there.
        reset_picker();
        completed_announced_ = false;
        begin_check(std::vector<bool>(meta_.num_pieces(), true));
        return;
    }
    if (may_activate()) activate();
    emit(StateChangedEvent{.new_state = status().state});
}

}  // namespace btd
