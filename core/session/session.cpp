#include "core/session/session.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <set>

#include "core/session/event_queue.hpp"
#include "core/session/labels.hpp"
#include "core/session/listener.hpp"
#include "core/session/peer_policy.hpp"
#include "core/session/session_context.hpp"
#include "core/session/status_changes.hpp"
#include "core/session/torrent.hpp"
#include "core/util/open_file_limit.hpp"

namespace btd {

namespace {
// Descriptors never given to peer connections: the RPC server (its listener and up to 64
// clients), tracker announces, state-file writes, logging and the event loop's own. Each torrent
// adds its open files (Storage::kMaxOpenFiles at most) and the listener its pending handshakes.
constexpr long kReservedDescriptors = 160;
// Below this many peer connections a torrent can hardly work; a tiny limit is logged instead.
constexpr long kMinPeerDescriptors = 16;

// What a stats event reports as moved; the ETA and ratio follow from these.
bool status_moved(const TorrentStatus& a, const TorrentStatus& b) {
    return a.state != b.state || a.progress != b.progress || a.download_rate != b.download_rate ||
           a.upload_rate != b.upload_rate || a.peers != b.peers || a.seeds != b.seeds ||
           a.downloaded != b.downloaded || a.uploaded != b.uploaded || a.error != b.error ||
           a.labels != b.labels;
}

SessionStats sum_up(const std::vector<TorrentStatus>& statuses, std::uint16_t listen_port) {
    SessionStats s;
    s.listen_port = listen_port;
    for (const auto& st : statuses) {
        ++s.torrents;
        ++s.by_state[to_string(st.state)];
        s.download_rate += st.download_rate;
        s.upload_rate += st.upload_rate;
        s.downloaded += st.downloaded;
        s.uploaded += st.uploaded;
        s.peers += st.peers;
    }
    return s;
}
}  // namespace

const char* to_string(TorrentState s) {
    switch (s) {
        case TorrentState::checking:
            return "checking";
        case TorrentState::downloading_metadata:
            return "downloading_metadata";
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

struct Session::Impl {
    SessionContext ctx;
    EventQueue events;  // destroyed after the torrents (none of their teardown may push to it)
    // Per torrent, the state its last StateChangedEvent reported, and the status its last
    // StatsEvent carried.
    std::map<Sha1Hash, TorrentState> reported_states;
    std::map<Sha1Hash, TorrentStatus> reported_status;
    std::map<Sha1Hash, std::unique_ptr<Torrent>> torrents;
    std::map<Sha1Hash, std::vector<std::string>> labels;  // only torrents that have some
    // Removed torrents still finishing disk work; destroyed when their stop() completes.
    std::map<Torrent*, std::unique_ptr<Torrent>> retiring;
    // Until a removed job's disk work is over (and its files deleted), the same torrent and
    // other torrents using the paths being deleted cannot be added: their check would hash
    // files that are about to vanish and count them as had.
    std::map<Sha1Hash, int> removing;
    std::multiset<std::filesystem::path> deleting;  // top-level paths of the files

    StatusChangeTracker changes;  // for torrent.list {since}
    // Disk-pool completions of an add hold it weakly: they do nothing once the Session is gone.
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);

    boost::asio::steady_timer tick_timer;
    bool shutting_down = false;
    Listener listener;

    Impl(boost::asio::io_context& io, SessionSettings settings)
        : ctx(io, std::move(settings)),
          events(io),
          tick_timer(io),
          listener(
              io,
              [this](boost::asio::ip::tcp::socket s, const wire::Handshake& hs) {
                  route(std::move(s), hs);
              },
              // Incoming connections never take the last global slots either: dialling goes on.
              [this] {
                  return !shutting_down &&
                         ctx.connections < peer_policy::incoming_slot_limit(ctx.connection_limit());
              }) {
        update_descriptor_cap();
        ctx.listen_port = listener.listen(ctx.settings.listen_address, ctx.settings.listen_port);
        ctx.settings.listen_port = ctx.listen_port;  // settings() shows the bound port, never 0
        spdlog::info("listening for peers on port {}", ctx.listen_port);
        ctx.emit = [this](SessionEvent e) { queue_event(std::move(e)); };
    }

    void queue_event(SessionEvent e) {
        if (auto* change = std::get_if<StateChangedEvent>(&e.payload)) {
            auto it = reported_states.try_emplace(e.id, TorrentState::checking).first;
            change->old_state = it->second;
            it->second = change->new_state;
        } else if (e.get<RemovedEvent>()) {
            reported_states.erase(e.id);
            reported_status.erase(e.id);
        }
        events.push(std::move(e));
    }

    // Only while someone listens: a status of every torrent each second is not free.
    void queue_stats() {
        if (!events.has_listeners()) return;
        std::vector<TorrentStatus> all;
        all.reserve(torrents.size());
        for (auto& [id, t] : torrents) all.push_back(status_of(id, *t));
        StatsEvent stats{sum_up(all, ctx.listen_port), {}};
        for (auto& status : all) {
            auto it = reported_status.find(status.id);
            if (it != reported_status.end() && !status_moved(it->second, status)) continue;
            reported_status.insert_or_assign(status.id, status);
            stats.torrents.push_back(std::move(status));
        }
        queue_event({Sha1Hash{}, std::move(stats)});
    }

    TorrentStatus status_of(const Sha1Hash& id, const Torrent& t) const {
        auto status = t.status();
        if (auto it = labels.find(id); it != labels.end()) status.labels = it->second;
        return status;
    }

    Torrent& get(const Sha1Hash& id) {
        auto it = torrents.find(id);
        if (it == torrents.end())
            throw SessionError(SessionError::Code::unknown_torrent,
                               "no torrent with id " + to_hex(id));
        return *it->second;
    }

    void route(boost::asio::ip::tcp::socket socket, const wire::Handshake& hs) {
        auto it = torrents.find(hs.info_hash);
        if (it == torrents.end()) return;  // unknown torrent: the socket closes here
        if (hs.peer_id == ctx.peer_id) return answer_ourselves(std::move(socket), hs);
        it->second->accept_incoming(std::move(socket), hs);
    }

    // One of our own outgoing connections came back to us (a tracker handed out our external
    // address, or a NAT hairpin): answer with our handshake, so the dialling side sees our peer
    // id, closes as `connected_to_self` and never dials that endpoint again.
    void answer_ourselves(boost::asio::ip::tcp::socket socket, const wire::Handshake& hs) {
        auto s = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket));
        auto bytes = std::make_shared<std::string>(
            wire::encode_handshake(wire::make_handshake(hs.info_hash, ctx.peer_id)));
        boost::asio::async_write(*s, boost::asio::buffer(*bytes),
                                 [s, bytes](const boost::system::error_code&, std::size_t) {
                                     boost::system::error_code ignored;
                                     s->shutdown(boost::asio::socket_base::shutdown_both, ignored);
                                 });
    }

    // Peer connections get what the open-file limit leaves after the reserve (see above), so
    // a flood of peers can never take the descriptors that files and the RPC need.
    void update_descriptor_cap() {
        auto limit = open_file_limit();
        if (!limit) return;
        long reserve = kReservedDescriptors + static_cast<long>(Listener::kMaxPendingHandshakes);
        for (auto& [id, t] : torrents)
            reserve +=
                static_cast<long>(std::min(t->metainfo().files.size(), Storage::kMaxOpenFiles));
        long cap = std::max(kMinPeerDescriptors, limit->soft - reserve);
        if (cap != ctx.descriptor_cap) {
            if (cap < ctx.settings.max_connections)
                spdlog::info("open file limit {}: at most {} peer connections", limit->soft, cap);
            ctx.descriptor_cap = static_cast<int>(std::min<long>(cap, 1 << 30));
        }
    }

    void schedule_tick() {
        tick_timer.expires_after(std::chrono::seconds(1));
        tick_timer.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            update_descriptor_cap();
            for (auto& [id, t] : torrents) t->tick();
            queue_stats();
            schedule_tick();
        });
    }

    // done() runs once no disk job of the torrent is left and, with delete_data, its files are
    // gone; the torrent itself goes when the trackers were told `stopped` too.
    void retire(std::unique_ptr<Torrent> torrent, bool delete_data, std::function<void()> done) {
        Torrent* raw = torrent.get();
        Sha1Hash id = raw->metainfo().info_hash;
        auto roots = delete_data ? top_level_paths(raw->metainfo(), raw->download_dir())
                                 : std::vector<std::filesystem::path>{};
        retiring.emplace(raw, std::move(torrent));
        ++removing[id];
        deleting.insert(roots.begin(), roots.end());
        auto pending = std::make_shared<int>(2);  // stopped, and files done
        auto release = [this, raw, pending] {
            if (--*pending > 0) return;
            // Destroy outside the torrent's own call stack.
            boost::asio::post(ctx.io, [this, raw] { retiring.erase(raw); });
        };
        raw->stop(release);
        auto files_done = [this, id, roots, done = std::move(done), release] {
            if (--removing[id] == 0) removing.erase(id);
            for (const auto& r : roots) deleting.erase(deleting.find(r));
            if (done) done();
            release();
        };
        raw->when_disk_idle([raw, delete_data, files_done] {
            if (delete_data)
                raw->delete_files(files_done);
            else
                files_done();
        });
    }

    static std::vector<std::filesystem::path> top_level_paths(const Metainfo& meta,
                                                              const std::filesystem::path& dir) {
        std::set<std::filesystem::path> roots;
        for (const auto& f : meta.files)
            if (!f.pad && !f.path.empty()) roots.insert((dir / *f.path.begin()).lexically_normal());
        return {roots.begin(), roots.end()};
    }

    // Runs `work` on the disk pool, then `then(result)` on the network thread if the Session
    // still lives. `work` returns a value or an exception_ptr, never throws.
    template <class Work, class Then>
    void on_disk(Work work, Then then) {
        ctx.disk.submit(
            ctx.io, std::move(work),
            [alive = std::weak_ptr<bool>(alive), then = std::move(then)](auto result) mutable {
                if (alive.lock()) then(std::move(result));
            });
    }

    std::filesystem::path download_dir_for(const AddTorrentParams& params) const;
    std::optional<AddResult> refuse_or_duplicate(const Metainfo& meta,
                                                 const std::filesystem::path& dir) const;
    AddResult insert(Metainfo meta, const std::filesystem::path& dir, AddTorrentParams params);

    // Throws SessionError{being_removed} while the torrent or its paths are being removed.
    void check_not_being_removed(const Metainfo& meta, const std::filesystem::path& dir) const {
        if (removing.count(meta.info_hash))
            throw SessionError(SessionError::Code::being_removed,
                               "torrent " + to_hex(meta.info_hash) +
                                   " is still being removed (its disk work is finishing or its "
                                   "data is being deleted); try again in a moment");
        for (const auto& root : top_level_paths(meta, dir))
            if (deleting.count(root))
                throw SessionError(SessionError::Code::being_removed,
                                   "'" + root.string() +
                                       "' is still being deleted by the removal of a torrent; "
                                       "try again in a moment");
    }
};

Session::Session(boost::asio::io_context& io, SessionSettings settings)
    : impl_(std::make_unique<Impl>(io, std::move(settings))) {
    impl_->schedule_tick();
}

// Disk work ends before the torrents go: running checks are cancelled, then the pool is joined,
// so no pool thread is left using anything a torrent owns (jobs also own what they read).
Session::~Session() {
    impl_->tick_timer.cancel();
    for (auto& [id, t] : impl_->torrents) t->cancel_disk_work();
    for (auto& [ptr, t] : impl_->retiring) t->cancel_disk_work();
    impl_->ctx.disk.join();
    impl_->torrents.clear();
    impl_->retiring.clear();
}

static void check_download_dir(const std::filesystem::path& dir) {
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
    auto job_labels = checked_labels(params.resume ? params.resume->labels : params.labels);
    std::unique_ptr<Torrent> torrent;
    try {
        torrent = std::make_unique<Torrent>(ctx, std::move(meta), dir, std::move(params.resume),
                                            paused, 0, params.file_priorities, params.sequential);
    } catch (const StorageError& e) {
        throw SessionError(SessionError::Code::bad_torrent, e.what());
    }
    auto& ref = *torrent;
    torrents.emplace(result.id, std::move(torrent));
    if (!job_labels.empty()) labels[result.id] = std::move(job_labels);
    ctx.emit({result.id, AddedEvent{result.name}});
    ref.start();
    return result;
}

AddResult Session::add_torrent(Metainfo meta, AddTorrentParams params) {
    EventQueue::Operation operation(impl_->events);
    auto dir = impl_->download_dir_for(params);
    if (auto duplicate = impl_->refuse_or_duplicate(meta, dir)) return *duplicate;
    check_download_dir(dir);
    return impl_->insert(std::move(meta), dir, std::move(params));
}

void Session::add_torrent(Metainfo meta, AddTorrentParams params, AddDone done) {
    auto* impl = impl_.get();
    auto reply_later = [impl, &done](AddOutcome outcome) {
        boost::asio::post(impl->ctx.io, [done = std::move(done), outcome]() { done(outcome); });
    };
    auto dir = impl->download_dir_for(params);
    try {
        if (auto duplicate = impl->refuse_or_duplicate(meta, dir)) return reply_later(*duplicate);
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
    auto finish = [impl, meta = std::move(meta), dir, params = std::move(params),
                   done = std::move(done)](std::exception_ptr error) mutable {
        AddOutcome outcome = error;
        if (!error) {
            EventQueue::Operation operation(impl->events);  // `added` is handled before done()
            try {
                auto duplicate = impl->refuse_or_duplicate(meta, dir);
                outcome =
                    duplicate ? *duplicate : impl->insert(std::move(meta), dir, std::move(params));
            } catch (...) {
                outcome = std::current_exception();
            }
        }
        done(std::move(outcome));
    };
    impl->on_disk(std::move(check_dir), std::move(finish));
}

void Session::add_torrent_file(std::filesystem::path file, AddTorrentParams params, AddDone done) {
    using Loaded = std::variant<Metainfo, std::exception_ptr>;
    auto load = [file = std::move(file)]() -> Loaded {
        try {
            return load_metainfo_file(file);
        } catch (...) {
            return std::current_exception();
        }
    };
    auto then = [this, params = std::move(params), done = std::move(done)](Loaded loaded) mutable {
        if (auto* error = std::get_if<std::exception_ptr>(&loaded)) return done(*error);
        add_torrent(std::get<Metainfo>(std::move(loaded)), std::move(params), std::move(done));
    };
    impl_->on_disk(std::move(load), std::move(then));
}

void Session::pause(const Sha1Hash& id) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id).pause();
}
void Session::resume(const Sha1Hash& id) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id).resume();
}
void Session::verify(const Sha1Hash& id) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id).verify();
}

void Session::remove(const Sha1Hash& id, bool delete_data, std::function<void()> done) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id);
    auto node = impl_->torrents.extract(id);
    impl_->changes.removed(id);
    impl_->labels.erase(id);
    impl_->ctx.emit({id, RemovedEvent{node.mapped()->metainfo().name}});
    impl_->retire(std::move(node.mapped()), delete_data, std::move(done));
}

void Session::set_torrent_limits(const Sha1Hash& id, const TorrentLimits& limits) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id).set_limits(limits);
    impl_->ctx.emit({id, ResumeDataChangedEvent{}});
}

void Session::set_file_priorities(const Sha1Hash& id, const std::vector<int>& priorities) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id).set_file_priorities(priorities);
    impl_->ctx.emit({id, ResumeDataChangedEvent{}});
}

std::vector<int> Session::file_priorities(const Sha1Hash& id) const {
    return impl_->get(id).file_priorities();
}

void Session::set_sequential(const Sha1Hash& id, bool on) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id).set_sequential(on);
    impl_->ctx.emit({id, ResumeDataChangedEvent{}});
}

void Session::set_labels(const Sha1Hash& id, const std::vector<std::string>& labels) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id);
    auto checked = checked_labels(labels);
    if (checked.empty())
        impl_->labels.erase(id);
    else
        impl_->labels[id] = std::move(checked);
    impl_->ctx.emit({id, ResumeDataChangedEvent{}});
}

bool Session::contains(const Sha1Hash& id) const {
    return impl_->torrents.count(id) > 0;
}

std::vector<Sha1Hash> Session::ids() const {
    std::vector<Sha1Hash> out;
    for (auto& [id, t] : impl_->torrents) out.push_back(id);
    return out;
}

std::vector<TorrentStatus> Session::list() const {
    std::vector<TorrentStatus> out;
    out.reserve(impl_->torrents.size());
    for (auto& [id, t] : impl_->torrents) out.push_back(impl_->status_of(id, *t));
    return out;
}

StatusChanges Session::changes_since(std::uint64_t since) {
    auto& tracker = impl_->changes;
    StatusChanges out;
    out.complete = !tracker.answers(since);  // asked before observing moves the sequence on
    for (auto& [id, t] : impl_->torrents) {
        auto status = impl_->status_of(id, *t);
        if (tracker.observe(status) > since || out.complete)
            out.changed.push_back(std::move(status));
    }
    if (!out.complete)
        for (const auto& id : tracker.removed_since(since))
            if (!impl_->torrents.count(id)) out.removed.push_back(id);  // not removed and re-added
    out.sequence = tracker.sequence();
    return out;
}

TorrentDetails Session::details(const Sha1Hash& id) const {
    auto details = impl_->get(id).details();
    if (auto it = impl_->labels.find(id); it != impl_->labels.end())
        details.status.labels = it->second;
    return details;
}

void Session::save_resume_data(const Sha1Hash& id, std::function<void(ResumeData)> done) {
    // The labels are the ones of when the save began: a later change raises its own save.
    auto it = impl_->labels.find(id);
    auto labels = it == impl_->labels.end() ? std::vector<std::string>{} : it->second;
    impl_->get(id).save_resume_data(
        [labels = std::move(labels), done = std::move(done)](ResumeData data) mutable {
            data.labels = std::move(labels);
            done(std::move(data));
        });
}

const Metainfo& Session::metainfo(const Sha1Hash& id) const {
    return impl_->get(id).metainfo();
}

SessionStats Session::stats() const {
    return sum_up(list(), impl_->ctx.listen_port);
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
}

EventSubscription Session::add_event_listener(EventHandler handler) {
    return impl_->events.subscribe(std::move(handler));
}

void Session::shutdown(std::function<void()> done) {
    EventQueue::Operation operation(impl_->events);
    impl_->shutting_down = true;
    impl_->tick_timer.cancel();
    impl_->listener.close();
    auto remaining = std::make_shared<std::size_t>(impl_->torrents.size());
    auto finish = std::make_shared<std::function<void()>>(std::move(done));
    if (*remaining == 0) return boost::asio::post(impl_->ctx.io, [finish] { (*finish)(); });
    for (auto& [id, t] : impl_->torrents) {
        t->stop([remaining, finish] {
            if (--*remaining == 0) (*finish)();
        });
    }
}

}  // namespace btd
