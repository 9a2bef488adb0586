#include "core/session/session.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "core/session/labels.hpp"
#include "core/session/session_impl.hpp"
#include "core/session/torrent_status.hpp"
#include "core/storage/move_journal.hpp"

namespace btd {

const char* to_string(TorrentState s) {
    switch (s) {
        case TorrentState::checking:
            return "checking";
        case TorrentState::downloading_metadata:
            return "metadata";  // a magnet job fetching its info dictionary
        case TorrentState::downloading:
            return "downloading";
        case TorrentState::seeding:
            return "seeding";
        case TorrentState::paused:
            return "paused";
        case TorrentState::queued:
            return "queued";
        case TorrentState::error:
            return "error";
    }
    return "unknown";
}

const char* to_string(PeerSource s) {
    switch (s) {
        case PeerSource::tracker:
            return "tracker";
        case PeerSource::dht:
            return "dht";
        case PeerSource::pex:
            return "pex";
        case PeerSource::lsd:
            return "lsd";
        case PeerSource::incoming:
            return "incoming";
        case PeerSource::magnet:
            return "magnet";
        case PeerSource::resume:
            return "resume";
    }
    return "unknown";
}

const char* to_string(TorrentErrorCode code) {
    switch (code) {
        case TorrentErrorCode::write_failed:
            return "write_failed";
        case TorrentErrorCode::read_failed:
            return "read_failed";
        case TorrentErrorCode::check_failed:
            return "check_failed";
    }
    return "unknown";
}

const char* event_name(const SessionEvent& event) {
    struct Name {
        const char* operator()(const AddedEvent&) const { return "added"; }
        const char* operator()(const StateChangedEvent&) const { return "state_changed"; }
        const char* operator()(const MetadataReceivedEvent&) const { return "metadata_received"; }
        const char* operator()(const PieceVerifiedEvent&) const { return "piece_verified"; }
        const char* operator()(const PieceFailedEvent&) const { return "piece_failed"; }
        const char* operator()(const CompletedEvent&) const { return "completed"; }
        const char* operator()(const ErrorEvent&) const { return "error"; }
        const char* operator()(const RemovedEvent&) const { return "removed"; }
        const char* operator()(const ResumeDataChangedEvent&) const {
            return "resume_data_changed";
        }
        const char* operator()(const StatsEvent&) const { return "stats"; }
    };
    return std::visit(Name{}, event.payload);
}

Session::Session(boost::asio::io_context& io, SessionSettings settings, const EngineClock& clock)
    : impl_(std::make_unique<Impl>(io, std::move(settings), clock)) {
    // Start-up only (usually an empty folder): which restored torrents must recover a move.
    impl_->ctx.interrupted_moves = find_move_journals(impl_->ctx.settings.move_journal_dir);
    impl_->schedule_tick();
    impl_->configure_lsd();
    impl_->configure_dht();
}

// Disk work ends before the torrents go: running checks are cancelled, then the pool is joined,
// so no pool thread is left using anything a torrent owns (jobs also own what they read).
Session::~Session() {
    try {
        impl_->tick_timer.cancel();
        for (auto& [id, t] : impl_->torrents) t->cancel_disk_work();
        for (auto& [ptr, t] : impl_->retiring) t->cancel_disk_work();
        impl_->ctx.disk.join();
    } catch (const std::exception& e) {
        // Only a broken invariant gets here (joining the pool from one of its own threads):
        // freeing the torrents under a running pool thread would be worse than stopping now.
        spdlog::critical("shutting the session down: {}", e.what());
        std::terminate();
    }
    impl_->magnets.clear();
    impl_->retiring_magnets.clear();
    impl_->torrents.clear();
    impl_->walk_stale = true;
    impl_->retiring.clear();
}

void check_download_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
        throw SessionError(SessionError::Code::bad_download_dir,
                           "download directory " + dir.string() +
                               " cannot be created: " + (ec ? ec.message() : "not a directory"));
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw SessionError(SessionError::Code::bad_download_dir,
                           "download directory " + dir.string() + " is not writable");
}

std::filesystem::path Session::Impl::download_dir_for(const AddTorrentParams& params) const {
    auto dir = params.download_dir.value_or(params.resume && !params.resume->download_dir.empty()
                                                ? params.resume->download_dir
                                                : ctx.settings.default_download_dir);
    return std::filesystem::absolute(dir);
}

// The checks made before any disk work (and again after it, for an asynchronous add): the
// result for a duplicate, nothing if the add may go on; throws if it is refused.
std::optional<AddResult> Session::Impl::refuse_or_duplicate(
    const Metainfo& meta, const std::filesystem::path& dir) const {
    if (torrents.count(meta.info_hash)) return AddResult{meta.info_hash, meta.name, true};
    if (auto* waiting = magnet(meta.info_hash))  // its metadata will come from peers
        return AddResult{meta.info_hash, waiting->job->name(), true};
    if (shutting_down)
        throw SessionError(SessionError::Code::shutting_down, "the daemon is shutting down");
    check_not_being_removed(meta, dir);
    return std::nullopt;
}

// Creates the job; the download directory has been checked.
AddResult Session::Impl::insert(Metainfo meta, const std::filesystem::path& dir,
                                AddTorrentParams params) {
    AddResult result{meta.info_hash, meta.name, false};
    bool paused = params.resume ? params.resume->paused : params.paused;
    auto saved_position = params.resume ? params.resume->queue_position : -1;
    auto job_labels = checked_labels(params.resume ? params.resume->labels : params.labels);
    auto info_file = std::move(params.info_file);
    std::unique_ptr<Torrent> torrent;
    try {
        torrent = std::make_unique<Torrent>(ctx, std::move(meta), dir, std::move(params.resume),
                                            paused, 0, params.file_priorities, params.sequential);
    } catch (const StorageError& e) {
        throw SessionError(SessionError::Code::bad_torrent, e.what());
    }
    auto& ref = *torrent;
    torrents.emplace(result.id, std::move(torrent));
    walk_stale = true;
    if (!job_labels.empty()) labels[result.id] = std::move(job_labels);
    ctx.emit({result.id, AddedEvent{result.name}});
    enqueue(result.id, saved_position, paused);
    ref.start();
    if (!info_file.empty()) ref.set_info_file(std::move(info_file));
    return result;
}

AddResult Session::add_torrent(Metainfo meta, AddTorrentParams params) {
    EventQueue::Operation operation(impl_->events);
    auto dir = impl_->download_dir_for(params);
    if (auto duplicate = impl_->refuse_or_duplicate(meta, dir)) return *duplicate;
    check_download_dir(dir);
    return impl_->insert(std::move(meta), dir, std::move(params));
}

void Session::Impl::add_async(const std::filesystem::path& dir,
                              std::function<std::optional<AddResult>()> refuse,
                              std::function<AddResult()> insert, AddDone done) {
    auto reply_later = [this, &done](AddOutcome outcome) {
        boost::asio::post(ctx.io, [done = std::move(done), outcome]() { done(outcome); });
    };
    try {
        if (auto duplicate = refuse()) return reply_later(*duplicate);
    } catch (...) {
        return reply_later(std::current_exception());
    }
    auto check_dir = [dir]() -> std::exception_ptr {
        try {
            check_download_dir(dir);
            return nullptr;
        } catch (...) {
            return std::current_exception();
        }
    };
    auto finish = [this, refuse = std::move(refuse), insert = std::move(insert),
                   done = std::move(done)](std::exception_ptr error) mutable {
        AddOutcome outcome = error;
        if (!error) {
            EventQueue::Operation operation(events);  // `added` is handled before done()
            try {
                auto duplicate = refuse();  // again: the same job may have come meanwhile
                outcome = duplicate ? *duplicate : insert();
            } catch (...) {
                outcome = std::current_exception();
            }
        }
        done(std::move(outcome));
    };
    on_disk(std::move(check_dir), std::move(finish));
}

void Session::add_torrent(Metainfo meta, AddTorrentParams params, AddDone done) {
    auto* impl = impl_.get();
    auto dir = impl->download_dir_for(params);
    auto shared = std::make_shared<Metainfo>(std::move(meta));
    impl->add_async(
        dir, [impl, shared, dir] { return impl->refuse_or_duplicate(*shared, dir); },
        [impl, shared, dir, params = std::move(params)]() mutable {
            return impl->insert(std::move(*shared), dir, std::move(params));
        },
        std::move(done));
}

void Session::add_torrent_file(std::filesystem::path file, AddTorrentParams params, AddDone done) {
    using Loaded = std::variant<Metainfo, MagnetLink, std::exception_ptr>;
    auto load = [file = std::move(file)]() -> Loaded {
        try {
            if (is_magnet_file(file)) return load_magnet_file(file);
            return load_metainfo_file(file);
        } catch (...) {
            return std::current_exception();
        }
    };
    auto then = [this, params = std::move(params), done = std::move(done)](Loaded loaded) mutable {
        if (auto* error = std::get_if<std::exception_ptr>(&loaded)) return done(*error);
        if (auto* link = std::get_if<MagnetLink>(&loaded))
            return add_magnet(std::move(*link), std::move(params), std::move(done));
        add_torrent(std::get<Metainfo>(std::move(loaded)), std::move(params), std::move(done));
    };
    impl_->on_disk(std::move(load), std::move(then));
}

void Session::pause(const Sha1Hash& id) {
    EventQueue::Operation operation(impl_->events);
    if (auto* m = impl_->magnet(id)) {
        impl_->forced.erase(id);
        m->job->pause();
        impl_->ctx.emit({id, StateChangedEvent{.new_state = m->job->status().state}});
        return;
    }
    impl_->get(id).pause();
    impl_->forced.erase(id);
}
void Session::resume(const Sha1Hash& id) {
    EventQueue::Operation operation(impl_->events);
    if (auto* m = impl_->magnet(id)) {
        impl_->update_queue(&id);  // before it starts: it may have to wait for a slot
        m->job->resume();
        impl_->ctx.emit({id, StateChangedEvent{.new_state = m->job->status().state}});
        return;
    }
    auto& torrent = impl_->get(id);
    impl_->update_queue(&id);  // before it starts: it may have to wait for a slot
    torrent.resume();
}
void Session::verify(const Sha1Hash& id) {
    EventQueue::Operation operation(impl_->events);
    if (impl_->magnet(id)) return;  // no data to check before the metadata is known
    impl_->get(id).verify();
}

void Session::remove(const Sha1Hash& id, bool delete_data, std::function<void()> done) {
    EventQueue::Operation operation(impl_->events);
    if (impl_->magnet(id)) {  // nothing on disk yet, nothing to wait for
        impl_->remove_magnet(id);
        if (done) boost::asio::post(impl_->ctx.io, std::move(done));
        return;
    }
    impl_->get(id);
    auto node = impl_->torrents.extract(id);
    impl_->walk_stale = true;
    impl_->changes.removed(id);
    impl_->labels.erase(id);
    impl_->dequeue(id);
    impl_->ctx.emit({id, RemovedEvent{node.mapped()->metainfo().name}});
    auto journal = move_journal_path(impl_->ctx.settings.move_journal_dir, id);
    if (!journal.empty())  // a later add of the same torrent must not act on an old move
        done = [this, journal, done = std::move(done)] {
            run_on_disk([journal] { remove_move_journal(journal); },
                        done ? done : std::function<void()>([] {}));
        };
    impl_->retire(std::move(node.mapped()), delete_data, std::move(done));
}

void Session::set_torrent_limits(const Sha1Hash& id, const TorrentLimits& limits) {
    EventQueue::Operation operation(impl_->events);
    if (auto* m = impl_->magnet(id)) {
        torrent_status::merge_limits(m->limits, limits);
    } else {
        impl_->get(id).set_limits(limits);
    }
    impl_->ctx.emit({id, ResumeDataChangedEvent{}});
}

void Session::set_file_priorities(const Sha1Hash& id, const std::vector<int>& priorities) {
    EventQueue::Operation operation(impl_->events);
    if (auto* m = impl_->magnet(id)) {  // the file count is checked once the files are known
        for (int p : priorities)
            if (p < 0 || p > 7)
                throw SessionError(SessionError::Code::invalid_argument,
                                   "file priority " + std::to_string(p) + " is not 0..7");
        m->file_priorities = priorities;
    } else {
        impl_->get(id).set_file_priorities(priorities);
        impl_->wake(id);
    }
    impl_->ctx.emit({id, ResumeDataChangedEvent{}});
}

std::vector<int> Session::file_priorities(const Sha1Hash& id) const {
    if (auto* m = impl_->magnet(id)) return m->file_priorities;
    return impl_->get(id).file_priorities();
}

void Session::set_sequential(const Sha1Hash& id, bool on) {
    EventQueue::Operation operation(impl_->events);
    if (auto* m = impl_->magnet(id))
        m->sequential = on;
    else
        impl_->get(id).set_sequential(on);
    impl_->ctx.emit({id, ResumeDataChangedEvent{}});
}

void Session::set_labels(const Sha1Hash& id, const std::vector<std::string>& labels) {
    EventQueue::Operation operation(impl_->events);
    if (!impl_->magnet(id)) impl_->get(id);
    auto checked = checked_labels(labels);
    if (checked.empty())
        impl_->labels.erase(id);
    else
        impl_->labels[id] = std::move(checked);
    impl_->wake(id);
    impl_->ctx.emit({id, ResumeDataChangedEvent{}});
}

bool Session::contains(const Sha1Hash& id) const {
    return impl_->torrents.count(id) > 0 || impl_->magnets.count(id) > 0;
}

std::vector<Sha1Hash> Session::ids() const {
    std::vector<Sha1Hash> out;
    out.reserve(torrent_count());
    for (const auto& [id, t] : impl_->walk_order()) out.push_back(id);
    for (auto& [id, m] : impl_->magnets) out.push_back(id);
    return out;
}

std::size_t Session::torrent_count() const {
    return impl_->torrents.size() + impl_->magnets.size();
}

std::vector<TorrentStatus> Session::list() const {
    std::vector<TorrentStatus> out;
    out.reserve(torrent_count());
    for_each_status([&out](const TorrentStatus& status) { out.push_back(status); });
    return out;
}

// One status object for every torrent: its strings and vectors keep their buffers, so a walk
// over 10,000 torrents allocates next to nothing. Magnets are few: a status each.
void Session::for_each_status(const std::function<void(const TorrentStatus&)>& visit) const {
    TorrentStatus status;
    for (const auto& [id, t] : impl_->walk_order()) {
        impl_->fill_status(id, *t, status);
        visit(status);
    }
    for (auto& [id, m] : impl_->magnets) visit(impl_->status_of(id, *m.job));
}

StatusChanges Session::changes_since(std::uint64_t since) {
    auto& tracker = impl_->changes;
    StatusChanges out;
    out.complete = !tracker.answers(since);  // asked before observing moves the sequence on
    for (auto& status : list()) {
        if (tracker.observe(status) > since || out.complete)
            out.changed.push_back(std::move(status));
    }
    if (!out.complete)
        for (const auto& id : tracker.removed_since(since))
            if (!contains(id)) out.removed.push_back(id);  // not removed and re-added
    out.sequence = tracker.sequence();
    return out;
}

TorrentDetails Session::details(const Sha1Hash& id) const {
    auto* m = impl_->magnet(id);
    auto details = m ? m->job->details() : impl_->get(id).details();
    if (auto it = impl_->labels.find(id); it != impl_->labels.end())
        details.status.labels = it->second;
    return details;
}

void Session::save_resume_data(const Sha1Hash& id, std::function<void(ResumeData)> done) {
    // The labels are the ones of when the save began: a later change raises its own save.
    auto it = impl_->labels.find(id);
    auto labels = it == impl_->labels.end() ? std::vector<std::string>{} : it->second;
    if (impl_->magnet(id)) {
        auto data = impl_->magnet_resume_data(id);
        data.labels = std::move(labels);
        return boost::asio::post(impl_->ctx.io,
                                 [done = std::move(done), data = std::move(data)] { done(data); });
    }
    auto position = impl_->positions.position(id);
    impl_->get(id).save_resume_data(
        [labels = std::move(labels), position, done = std::move(done)](ResumeData data) mutable {
            data.labels = std::move(labels);
            data.queue_position = position;
            done(std::move(data));
        });
}

void Session::set_info_file(const Sha1Hash& id, std::filesystem::path file) {
    if (impl_->magnet(id) || !contains(id)) return;
    impl_->get(id).set_info_file(std::move(file));
}

const Metainfo& Session::metainfo(const Sha1Hash& id) const {
    if (auto* m = impl_->magnet(id)) return m->stub;
    return impl_->get(id).metainfo();
}

SessionStats Session::stats() const {
    auto stats = impl_->totals();  // the daemon asks every 5 s: no status of asleep torrents
    stats.awake_torrents = impl_->awake_torrents;
    stats.tick_visits = impl_->tick_visits;
    auto dht = impl_->dht.stats();
    stats.dht_enabled = dht.enabled;
    stats.dht_nodes = dht.nodes;
    stats.dht_lookups = dht.lookups;
    const auto& disk = impl_->ctx.disk;
    stats.disk_waiting_read = disk.waiting(DiskJobKind::read);
    stats.disk_waiting_write = disk.waiting(DiskJobKind::write);
    stats.disk_waiting_check = disk.waiting(DiskJobKind::check);
    stats.disk_waiting_other = disk.waiting(DiskJobKind::other);
    stats.disk_running = disk.running();
    stats.hashed_check_bytes = disk.hashed_bytes(DiskJobKind::check);
    stats.hashed_download_bytes = disk.hashed_bytes(DiskJobKind::write);
    return stats;
}

const SessionSettings& Session::settings() const {
    return impl_->ctx.settings;
}

void Session::apply_settings(const SessionSettings& settings) {
    auto& ctx = impl_->ctx;
    // A new port is bound before anything else changes: if it cannot be had, nothing does.
    // Connected peers stay; trackers hear the new port from their next announce on.
    std::uint16_t port = ctx.listen_port;
    bool moved = settings.listen_port != ctx.listen_port ||
                 settings.listen_address != ctx.settings.listen_address;
    if (moved && !impl_->shutting_down) {  // after shutdown() the listener stays closed
        try {
            port = impl_->listener.listen(settings.listen_address, settings.listen_port);
        } catch (const std::runtime_error& e) {
            throw SessionError(SessionError::Code::invalid_argument, e.what());
        }
        if (port != ctx.listen_port) spdlog::info("listening for peers on port {}", port);
    }
    auto threads = ctx.settings.disk_threads;  // fixed for the session's lifetime
    ctx.settings = settings;
    ctx.settings.listen_port = port;
    ctx.settings.disk_threads = threads;
    ctx.listen_port = port;
    impl_->ctx.download_limit->set_rate(settings.download_rate_limit);
    impl_->ctx.upload_limit->set_rate(settings.upload_rate_limit);
    if (!impl_->shutting_down) impl_->configure_lsd();
    impl_->update_queue();
    if (!impl_->shutting_down) impl_->configure_dht();
}

EventSubscription Session::add_event_listener(EventHandler handler) {
    return impl_->events.subscribe(std::move(handler));
}

void Session::shutdown(std::function<void()> done) {
    EventQueue::Operation operation(impl_->events);
    impl_->shutting_down = true;
    impl_->tick_timer.cancel();
    impl_->listener.close();
    impl_->lsd.reset();
    impl_->dht.shutdown();
    auto remaining = std::make_shared<std::size_t>(impl_->torrents.size() + impl_->magnets.size());
    auto finish = std::make_shared<std::function<void()>>(std::move(done));
    if (*remaining == 0) return boost::asio::post(impl_->ctx.io, [finish] { (*finish)(); });
    auto one_done = [remaining, finish] {
        if (--*remaining == 0) (*finish)();
    };
    for (auto& [id, t] : impl_->torrents) t->stop(one_done);
    for (auto& [id, m] : impl_->magnets) m.job->stop(one_done);
}

}  // namespace btd
