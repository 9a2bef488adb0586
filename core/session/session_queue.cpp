// Session's download queue, manual announces and data moves: the glue between the pure queue
// decisions (queue.hpp) and the torrents. Network thread only, like all of Session.
#include <spdlog/spdlog.h>

#include "core/session/session_impl.hpp"

namespace btd {

// Before the job starts: if no slot is free it checks its data, then waits queued. A job restored
// with its saved position waits queued until the next tick decides: the jobs ahead of it in the
// queue may not be restored yet (the daemon restores them one by one, in no queue order), and a
// slot must not go to it meanwhile.
void Session::Impl::enqueue(const Sha1Hash& id, std::int64_t saved_position, bool paused) {
    positions.add(id, saved_position >= 0 ? std::optional(saved_position) : std::nullopt);
    payload[id] = {0, false, ctx.clock.now()};
    if (saved_position >= 0 && !paused) {
        if (auto t = torrents.find(id); t != torrents.end()) return t->second->set_queued(true);
        if (auto m = magnets.find(id); m != magnets.end()) return m->second.job->set_queued(true);
    }
    // A paused one takes no slot, so nobody else's turn changes (and restoring 10,000 paused
    // torrents must not look at every torrent once per torrent).
    if (!paused) update_queue(&id);
}

void Session::Impl::dequeue(const Sha1Hash& id) {
    positions.remove(id);
    forced.erase(id);
    payload.erase(id);
}

// A torrent downloading with no payload received, or seeding with none sent, for
// `queue_stalled_after` is stalled (as in Transmission's download and seed queues); the clock
// starts again whenever it is doing neither (queued, paused, checking) or switches between them.
void Session::Impl::watch_payload() {
    auto now = ctx.clock.now();
    for (const auto& id : awake) {  // an asleep torrent's clock starts again when it wakes
        auto t = torrents.find(id);
        if (t == torrents.end()) continue;
        auto& seen = payload[id];
        if (t->second->idle()) {  // not downloading, and its total cannot move: no status needed
            seen.since = now;
            continue;
        }
        auto status = t->second->status();
        bool seeding = status.state == TorrentState::seeding;
        bool running = seeding || status.state == TorrentState::downloading;
        auto bytes = seeding ? status.uploaded : status.downloaded;
        if (!running || seen.seeding != seeding || bytes > seen.bytes) seen = {bytes, seeding, now};
    }
    for (auto& [id, m] : magnets)  // no payload before the metadata: the clock runs while it looks
        if (m.job->status().state != TorrentState::downloading_metadata)
            payload[id] = {0, false, now};
}

bool Session::Impl::stalled(const Sha1Hash& id) const {
    auto limit = ctx.settings.queue_stalled_after;
    auto it = payload.find(id);
    if (limit <= 0 || it == payload.end()) return false;
    return ctx.clock.now() - it->second.since >= std::chrono::seconds(limit);
}

void Session::Impl::update_queue(const Sha1Hash* starting) {
    auto order = positions.order();
    std::vector<queue::Entry> entries;
    entries.reserve(order.size());
    for (const auto& id : order) {
        auto it = torrents.find(id);
        queue::Entry e;
        if (it == torrents.end()) {
            entries.push_back(magnet_entry(id, starting));
            continue;
        }
        bool starts = starting && *starting == id;
        if (it->second->paused() && !starts) {  // paused by the user: wants no slot
            entries.push_back(e);
            continue;
        }
        auto status = it->second->status();
        e.wants_to_run =
            starts || (status.state != TorrentState::paused && status.state != TorrentState::error);
        e.seeding = status.size > 0 && status.have_bytes >= status.size;
        e.forced = forced.count(id) > 0;
        bool running =
            status.state == TorrentState::downloading || status.state == TorrentState::seeding;
        e.stalled = !starts && running && stalled(id);
        entries.push_back(e);
    }
    auto run =
        queue::may_run(entries, {ctx.settings.max_active_downloads, ctx.settings.max_active_seeds});
    for (std::size_t i = 0; i < order.size(); ++i) {
        auto it = torrents.find(order[i]);
        if (it != torrents.end() && entries[i].wants_to_run) it->second->set_queued(!run[i]);
        if (auto* m = magnet(order[i]); m && entries[i].wants_to_run) queue_magnet(*m, !run[i]);
    }
}

// A magnet job fetching metadata competes for a download slot like any download (libtorrent
// counts such torrents as downloading too); one that found no metadata for
// queue_stalled_after seconds is stalled: it goes on looking but frees its slot.
queue::Entry Session::Impl::magnet_entry(const Sha1Hash& id, const Sha1Hash* starting) const {
    queue::Entry e;
    auto* m = magnet(id);
    if (!m) return e;
    auto state = m->job->status().state;
    bool starts = starting && *starting == id;
    e.wants_to_run = starts || (state != TorrentState::paused && state != TorrentState::error);
    e.forced = forced.count(id) > 0;
    e.stalled = !starts && state == TorrentState::downloading_metadata && stalled(id);
    return e;
}

void Session::Impl::queue_magnet(MagnetEntry& entry, bool queued) {
    if (entry.job->queued() == queued) return;
    entry.job->set_queued(queued);
    auto id = entry.job->link().info_hash;
    ctx.emit({id, StateChangedEvent{.new_state = entry.job->status().state}});
}

void Session::start_now(const Sha1Hash& id) {
    EventQueue::Operation operation(impl_->events);
    if (auto* m = impl_->magnet(id)) {  // outside the limits, like a torrent
        impl_->forced.insert(id);
        impl_->update_queue(&id);
        m->job->resume();
        impl_->ctx.emit({id, StateChangedEvent{.new_state = m->job->status().state}});
        return;
    }
    auto& torrent = impl_->get(id);
    impl_->forced.insert(id);
    impl_->update_queue(&id);
    torrent.resume();
}

void Session::queue_move(const std::vector<Sha1Hash>& ids, QueueMove to) {
    EventQueue::Operation operation(impl_->events);
    for (const auto& id : ids)
        if (!impl_->magnet(id)) impl_->get(id);  // throws for an unknown id
    auto order = queue::moved(impl_->positions.order(), {ids.begin(), ids.end()}, to);
    for (const auto& id : impl_->positions.reorder(order))
        impl_->ctx.emit({id, ResumeDataChangedEvent{}});
    impl_->update_queue();
}

void Session::queue_set_position(const Sha1Hash& id, std::int64_t position) {
    EventQueue::Operation operation(impl_->events);
    impl_->get(id);
    auto order = queue::placed(impl_->positions.order(), id, position);
    for (const auto& changed : impl_->positions.reorder(order))
        impl_->ctx.emit({changed, ResumeDataChangedEvent{}});
    impl_->update_queue();
}

void Session::reannounce(const Sha1Hash& id) {
    impl_->get(id).reannounce();
}

void Session::set_location(const Sha1Hash& id, std::filesystem::path dir, bool move,
                           std::function<void(std::string)> done) {
    EventQueue::Operation operation(impl_->events);
    auto& torrent = impl_->get(id);
    if (!dir.is_absolute())
        throw SessionError(SessionError::Code::invalid_argument,
                           "location must be an absolute path, not '" + dir.string() + "'");
    if (torrent.relocating())
        throw SessionError(SessionError::Code::invalid_argument,
                           "torrent " + to_hex(id) + " is being moved already; try again later");
    torrent.relocate(dir.lexically_normal(), move, std::move(done));
}

}  // namespace btd
