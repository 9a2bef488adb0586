#include "core/session/session_impl.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>
#include <utility>

#include "core/session/peer_policy.hpp"
#include "core/tracker/tracker_context.hpp"
#include "core/util/open_file_limit.hpp"

namespace btd {

namespace {  // Descriptors never given to peer connections: the RPC server (its listener and up to
             // 64
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
           a.labels != b.labels || a.queue_position != b.queue_position || a.stalled != b.stalled;
}
}  // namespace

void add_to(SessionStats& totals, const TorrentStatus& st) {
    ++totals.torrents;
    ++totals.by_state[to_string(st.state)];
    totals.download_rate += st.download_rate;
    totals.upload_rate += st.upload_rate;
    totals.downloaded += st.downloaded;
    totals.uploaded += st.uploaded;
    totals.peers += st.peers;
}

// The inverse of add_to; a state no torrent is in any more leaves by_state, as if never added.
void remove_from(SessionStats& totals, const TorrentStatus& st) {
    --totals.torrents;
    if (auto it = totals.by_state.find(to_string(st.state));
        it != totals.by_state.end() && --it->second == 0)
        totals.by_state.erase(it);
    totals.download_rate -= st.download_rate;
    totals.upload_rate -= st.upload_rate;
    totals.downloaded -= st.downloaded;
    totals.uploaded -= st.uploaded;
    totals.peers -= st.peers;
}

SessionStats sum_up(const std::vector<TorrentStatus>& statuses, std::uint16_t listen_port) {
    SessionStats s;
    s.listen_port = listen_port;
    for (const auto& st : statuses) add_to(s, st);
    return s;
}

Session::Impl::Impl(boost::asio::io_context& io, SessionSettings settings, const EngineClock& clock)
    : ctx(io, std::move(settings), clock),
      events(io),
      tick_timer(io),
      listener(
          io,
          [this](std::unique_ptr<PeerStream> s, const wire::Handshake& hs) {
              route(std::move(s), hs);
          },
          // Incoming connections never take the last global slots either: dialling goes on.
          [this] {
              return !shutting_down &&
                     ctx.connections < peer_policy::incoming_slot_limit(ctx.connection_limit());
          },
          clock),
      dht(io, dht_hooks()) {
    update_descriptor_cap();
    listener.set_bind(ctx.bind);
    ctx.trackers.state().settings.bind = ctx.bind;
    ctx.listen_port = listener.listen(ctx.settings.listen_address, ctx.settings.listen_port);
    ctx.settings.listen_port = ctx.listen_port;  // settings() shows the bound port, never 0
    spdlog::info("listening for peers on port {}", ctx.listen_port);
    ctx.emit = [this](SessionEvent e) { queue_event(std::move(e)); };
}

void Session::Impl::queue_event(SessionEvent e) {
    if (auto* change = std::get_if<StateChangedEvent>(&e.payload)) {
        auto it = reported_states.try_emplace(e.id, TorrentState::checking).first;
        change->old_state = it->second;
        it->second = change->new_state;
        look_up_when_started(*change, e.id);
    }
    if (e.get<RemovedEvent>()) {
        reported_states.erase(e.id);
        forget(e.id);
        descriptors_stale = true;
        queue_stale = true;  // its slot is free
    } else if (!e.get<StatsEvent>()) {
        wake(e.id);  // whatever happened to it, its status may have moved
        if (e.get<AddedEvent>() || e.get<MetadataReceivedEvent>()) descriptors_stale = true;
    }
    events.push(std::move(e));
}

void Session::Impl::wake(const Sha1Hash& id) {
    if (!awake.insert(id).second) return;
    if (asleep.erase(id)) remove_from(asleep_totals, reported_status.at(id));
    // Asleep, it was neither downloading nor seeding: the stalled clock starts now.
    if (auto it = payload.find(id); it != payload.end()) it->second.since = ctx.clock.now();
}

void Session::Impl::forget(const Sha1Hash& id) {
    if (asleep.erase(id)) remove_from(asleep_totals, reported_status.at(id));
    awake.erase(id);
    reported_status.erase(id);
}

// Once a second. Events raised meanwhile wake more torrents; they are ticked next time.
void Session::Impl::tick_torrents() {
    awake_torrents = 0;
    tick_visits = 0;
    std::vector<Sha1Hash> ids(awake.begin(), awake.end());
    for (const auto& id : ids) {
        auto it = torrents.find(id);
        if (it == torrents.end()) continue;  // a magnet, or gone: put_idle_to_sleep drops it
        ++tick_visits;
        if (it->second->idle()) continue;
        it->second->tick();
        ++awake_torrents;
    }
}

// After the stats: an idle torrent's last status is summed from now on, not rebuilt. Without
// listeners it is taken here, so totals stay right for one that subscribes later.
void Session::Impl::put_idle_to_sleep() {
    for (auto it = awake.begin(); it != awake.end();) {
        auto t = torrents.find(*it);
        if (t != torrents.end() && !t->second->idle()) {
            ++it;
            continue;
        }
        if (t != torrents.end()) {
            auto& status = reported_status[*it];
            if (!events.has_listeners()) status = status_of(*it, *t->second);
            add_to(asleep_totals, status);
            asleep.insert(*it);
        }
        it = awake.erase(it);
    }
}

namespace {
// Puts a status in the event when it moved since it was last reported.
void report_if_moved(Sha1Map<TorrentStatus>& reported, StatsEvent& stats, TorrentStatus status) {
    add_to(stats.session, status);
    auto it = reported.find(status.id);
    if (it != reported.end() && !status_moved(it->second, status)) return;
    reported.insert_or_assign(status.id, status);
    stats.torrents.push_back(std::move(status));
}
}  // namespace

// Only while someone listens: a status of every awake torrent and magnet each second. An asleep
// torrent's status cannot move, so it is summed already (asleep_totals): 10,000 paused torrents
// cost nothing here. A state change, new labels or file priorities wake it (wake()).
void Session::Impl::queue_stats() {
    if (!events.has_listeners()) return;
    StatsEvent stats;
    stats.session = asleep_totals;
    stats.session.listen_port = ctx.listen_port;
    for (const auto& id : awake)
        if (auto it = torrents.find(id); it != torrents.end())
            report_if_moved(reported_status, stats, status_of(id, *it->second));
    for (auto& [id, m] : magnets)  // few, and never idle
        report_if_moved(reported_status, stats, status_of(id, *m.job));
    queue_event({Sha1Hash{}, std::move(stats)});
}

// The same sums as over list(), without the status of every asleep torrent.
SessionStats Session::Impl::totals() const {
    SessionStats totals = asleep_totals;
    totals.listen_port = ctx.listen_port;
    for (const auto& id : awake)
        if (auto it = torrents.find(id); it != torrents.end())
            add_to(totals, status_of(id, *it->second));
    for (auto& [id, m] : magnets) add_to(totals, status_of(id, *m.job));
    return totals;
}

TorrentStatus Session::Impl::status_of(const Sha1Hash& id, const MetadataJob& job) const {
    auto status = job.status();
    if (auto it = labels.find(id); it != labels.end()) status.labels = it->second;
    status.queue_position = positions.position(id);
    status.stalled = status.state == TorrentState::downloading_metadata && stalled(id);
    return status;
}

TorrentStatus Session::Impl::status_of(const Sha1Hash& id, const Torrent& t) const {
    TorrentStatus status;
    fill_status(id, t, status);
    return status;
}

void Session::Impl::fill_status(const Sha1Hash& id, const Torrent& t, TorrentStatus& status) const {
    t.fill_status(status);
    if (auto it = labels.find(id); it != labels.end()) status.labels = it->second;
    status.queue_position = positions.position(id);
    status.stalled =
        (status.state == TorrentState::downloading || status.state == TorrentState::seeding) &&
        stalled(id);
}

const std::vector<std::pair<Sha1Hash, const Torrent*>>& Session::Impl::walk_order() {
    if (!walk_stale && walk.size() == torrents.size()) return walk;
    walk.clear();
    walk.reserve(torrents.size());
    for (const auto& [id, t] : torrents) walk.emplace_back(id, t.get());
    walk_stale = false;
    return walk;
}

Torrent& Session::Impl::get(const Sha1Hash& id) {
    auto it = torrents.find(id);
    if (it == torrents.end())
        throw SessionError(SessionError::Code::unknown_torrent, "no torrent with id " + to_hex(id));
    return *it->second;
}

void Session::Impl::route(std::unique_ptr<PeerStream> stream, const wire::Handshake& hs) {
    auto it = torrents.find(hs.info_hash);
    auto* waiting = magnet(hs.info_hash);
    if (it == torrents.end() && !waiting) return;  // unknown torrent: the stream closes here
    if (hs.peer_id == ctx.peer_id) return answer_ourselves(std::move(stream), hs);
    if (waiting) return void(waiting->job->accept_incoming(std::move(stream), hs));
    it->second->accept_incoming(std::move(stream), hs);
}

// One of our own outgoing connections came back to us (a tracker handed out our external
// address, or a NAT hairpin): answer with our handshake, so the dialling side sees our peer
// id, closes as `connected_to_self` and never dials that endpoint again.
void Session::Impl::answer_ourselves(std::unique_ptr<PeerStream> stream,
                                     const wire::Handshake& hs) {
    std::shared_ptr<PeerStream> s = std::move(stream);
    auto bytes = std::make_shared<std::string>(
        wire::encode_handshake(wire::make_handshake(hs.info_hash, ctx.peer_id)));
    s->async_write(boost::asio::buffer(*bytes),
                   [s, bytes](const boost::system::error_code&, std::size_t) { s->close(); });
}

// Peer connections get what the open-file limit leaves after the reserve (see above), so
// a flood of peers can never take the descriptors that files and the RPC need.
void Session::Impl::update_descriptor_cap() {
    auto limit = open_file_limit();
    if (!limit) return;
    if (descriptors_stale) {  // torrents came or went; else the sum is the same as last time
        file_descriptor_reserve = 0;
        for (auto& [id, t] : torrents)
            file_descriptor_reserve +=
                static_cast<long>(std::min(t->metainfo().files.size(), Storage::kMaxOpenFiles));
        descriptors_stale = false;
    }
    long reserve = kReservedDescriptors + static_cast<long>(Listener::kMaxPendingHandshakes) +
                   file_descriptor_reserve;
    long cap = std::max(kMinPeerDescriptors, limit->soft - reserve);
    if (cap != ctx.descriptor_cap) {
        if (cap < ctx.settings.max_connections)
            spdlog::info("open file limit {}: at most {} peer connections", limit->soft, cap);
        ctx.descriptor_cap = static_cast<int>(std::min<long>(cap, 1 << 30));
    }
}

// A job that is not paused wants a slot or holds one; the queue is decided again while any
// torrent is awake (a running one may finish or stall; a pause or removal woke it). With all
// torrents asleep the last decision stands: nothing it depends on can have moved.
void Session::Impl::schedule_tick() {
    tick_timer.expires_after(std::chrono::seconds(1));
    tick_timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        update_descriptor_cap();
        bool queue_may_move = !awake.empty() || std::exchange(queue_stale, false);
        tick_torrents();
        bool magnet_unpaused = false;
        for (auto& [id, m] : magnets) {
            magnet_unpaused = magnet_unpaused || !m.job->paused();
            m.job->tick();
        }
        watch_payload();
        if (queue_may_move || magnet_unpaused) update_queue();
        dht.tick();
        queue_stats();
        put_idle_to_sleep();
        schedule_tick();
    });
}

// done() runs once no disk job of the torrent is left and, with delete_data, its files are
// gone; the torrent itself goes when the trackers were told `stopped` too.
void Session::Impl::retire(std::unique_ptr<Torrent> torrent, bool delete_data,
                           std::function<void()> done) {
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

std::vector<std::filesystem::path> Session::Impl::top_level_paths(
    const Metainfo& meta, const std::filesystem::path& dir) {
    std::set<std::filesystem::path> roots;
    for (const auto& f : meta.files)
        if (!f.pad && !f.path.empty()) roots.insert((dir / *f.path.begin()).lexically_normal());
    return {roots.begin(), roots.end()};
}

// Throws SessionError{being_removed} while the torrent or its paths are being removed.
void Session::Impl::check_not_being_removed(const Metainfo& meta,
                                            const std::filesystem::path& dir) const {
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

void Session::Impl::deliver_peers(const Sha1Hash& info_hash,
                                  const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                                  PeerSource source) {
    if (auto it = torrents.find(info_hash); it != torrents.end())
        it->second->add_peers(endpoints, source);
    else if (auto* waiting = magnet(info_hash))
        waiting->job->add_peers(endpoints, source);
}

}  // namespace btd
