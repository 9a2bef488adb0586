// Session's magnet jobs: adding a magnet link, what list/details/pause/remove mean for a job
// that has no metadata yet, and the hand-over to a Torrent once the metadata arrived.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "core/session/labels.hpp"
#include "core/session/session_impl.hpp"
#include "core/storage/storage.hpp"

namespace btd {

namespace {

std::string bencoded_string(std::string_view s) {
    return std::to_string(s.size()) + ":" + std::string(s);
}

// A .torrent made of the verified info dictionary (kept byte for byte, so the info-hash stays)
// and the magnet's trackers, one tier each.
std::string torrent_bytes(std::string_view info_dict, const std::vector<std::string>& trackers) {
    std::string out = "d";
    if (!trackers.empty()) {
        out += "8:announce" + bencoded_string(trackers.front());
        out += "13:announce-listl";
        for (const auto& url : trackers) out += "l" + bencoded_string(url) + "e";
        out += "e";
    }
    out += "4:info";
    out += info_dict;
    out += "e";
    return out;
}

Metainfo stub_metainfo(const MagnetLink& link, const std::string& name) {
    Metainfo stub;
    stub.info_hash = link.info_hash;
    stub.name = name;
    for (const auto& url : link.trackers) stub.announce_tiers.push_back({url});
    return stub;
}

std::string endpoint_for_uri(const boost::asio::ip::tcp::endpoint& ep) {
    return endpoint_string(ep);  // "1.2.3.4:5" or "[::1]:5", as x.pe wants
}

}  // namespace

Session::Impl::MagnetEntry* Session::Impl::magnet(const Sha1Hash& id) {
    auto it = magnets.find(id);
    return it == magnets.end() ? nullptr : &it->second;
}

const Session::Impl::MagnetEntry* Session::Impl::magnet(const Sha1Hash& id) const {
    auto it = magnets.find(id);
    return it == magnets.end() ? nullptr : &it->second;
}

std::optional<AddResult> Session::Impl::refuse_or_duplicate_magnet(const MagnetLink& link) const {
    const auto& id = link.info_hash;
    if (auto it = torrents.find(id); it != torrents.end())
        return AddResult{id, it->second->metainfo().name, true};
    if (auto* entry = magnet(id)) return AddResult{id, entry->job->name(), true};
    if (shutting_down)
        throw SessionError(SessionError::Code::shutting_down, "the daemon is shutting down");
    if (removing.count(id))
        throw SessionError(
            SessionError::Code::being_removed,
            "torrent " + to_hex(id) + " is still being removed; try again in a moment");
    return std::nullopt;
}

AddResult Session::Impl::insert_magnet(MagnetLink link, const std::filesystem::path& dir,
                                       AddTorrentParams params) {
    const auto id = link.info_hash;
    for (const auto& note : link.notes) spdlog::info("magnet {}: {}", to_hex(id), note);
    bool paused = params.resume ? params.resume->paused : params.paused;
    std::int64_t added_at = params.resume ? params.resume->added_at : 0;
    if (added_at == 0) added_at = ctx.clock.unix_seconds();
    auto job_labels = checked_labels(params.resume ? params.resume->labels : params.labels);
    MagnetEntry entry;
    entry.file_priorities = params.resume ? params.resume->file_priorities : params.file_priorities;
    entry.sequential = params.resume ? params.resume->sequential : params.sequential;
    if (params.resume) entry.limits = params.resume->limits;
    entry.job = std::make_unique<MetadataJob>(
        ctx, std::move(link), dir, paused, added_at,
        [this, id](std::string info) { on_metadata(id, std::move(info)); });
    entry.stub = stub_metainfo(entry.job->link(), entry.job->name());
    AddResult result{id, entry.job->name(), false};
    auto& job = *entry.job;
    magnets.emplace(id, std::move(entry));
    if (!job_labels.empty()) labels[id] = std::move(job_labels);
    ctx.emit({id, AddedEvent{result.name}});
    // Like a .torrent: it waits queued, fetching nothing, while every download slot is taken.
    enqueue(id, params.resume ? params.resume->queue_position : -1, paused);
    ctx.emit({id, StateChangedEvent{.new_state = job.status().state}});
    job.start();
    return result;
}

void Session::Impl::retire_magnet(std::unique_ptr<MetadataJob> job) {
    auto* raw = job.get();
    retiring_magnets.emplace(raw, std::move(job));
    boost::asio::post(ctx.io, [this, raw] { retiring_magnets.erase(raw); });
}

void Session::Impl::remove_magnet(const Sha1Hash& id) {
    auto node = magnets.extract(id);
    changes.removed(id);
    labels.erase(id);
    dequeue(id);
    ctx.emit({id, RemovedEvent{node.mapped().job->name()}});
    auto* job = node.mapped().job.get();
    job->stop([] {});  // tells the trackers `stopped`; the job itself goes now
    retire_magnet(std::move(node.mapped().job));
}

ResumeData Session::Impl::magnet_resume_data(const Sha1Hash& id) const {
    const auto& entry = *magnet(id);
    ResumeData rd;  // no have-bits, no files: nothing is on disk yet
    rd.paused = entry.job->paused();
    rd.added_at = entry.job->added_at();
    rd.download_dir = entry.job->download_dir();
    rd.limits = entry.limits;
    rd.file_priorities = entry.file_priorities;
    rd.sequential = entry.sequential;
    rd.queue_position = positions.position(id);
    return rd;
}

namespace {
// The Torrent for a magnet whose metadata arrived; priorities given at add time that do not
// fit the files are dropped (logged) rather than losing the download.
std::unique_ptr<Torrent> torrent_from_magnet(SessionContext& ctx, const Metainfo& meta,
                                             const MetadataJob& job,
                                             const std::vector<int>& priorities, bool sequential) {
    try {
        return std::make_unique<Torrent>(ctx, meta, job.download_dir(), std::nullopt, job.paused(),
                                         job.added_at(), priorities, sequential);
    } catch (const SessionError& e) {
        spdlog::warn(
            "{}: the file priorities given when it was added do not fit ({}); "
            "downloading every file",
            meta.name, e.what());
    }
    return std::make_unique<Torrent>(ctx, meta, job.download_dir(), std::nullopt, job.paused(),
                                     job.added_at(), std::vector<int>{}, sequential);
}
}  // namespace

void Session::Impl::on_metadata(const Sha1Hash& id, std::string info_dict) {
    EventQueue::Operation operation(events);
    auto* entry = magnet(id);
    if (!entry || shutting_down) return;
    std::unique_ptr<Torrent> torrent;
    try {
        auto meta = parse_metainfo(torrent_bytes(info_dict, entry->job->link().trackers));
        torrent =
            torrent_from_magnet(ctx, meta, *entry->job, entry->file_priorities, entry->sequential);
    } catch (const std::exception& e) {  // MetainfoError, StorageError
        entry->job->fail(std::string("the metadata cannot be used: ") + e.what());
        ctx.emit({id, StateChangedEvent{.new_state = TorrentState::error}});
        return;
    }
    auto peers = entry->job->known_peers();
    auto limits = entry->limits;
    auto node = magnets.extract(id);
    // Its connections close now (no `stopped` to the trackers: the Torrent announces next).
    node.mapped().job->pause();
    retire_magnet(std::move(node.mapped().job));
    auto& t = *torrents.emplace(id, std::move(torrent)).first->second;
    walk_stale = true;
    t.set_limits(limits);
    ctx.emit({id, MetadataReceivedEvent{t.metainfo().name}});
    t.start();
    for (const auto& [ep, source] : peers) t.add_peers({ep}, source);
}

// ---- Session's magnet entry points ------------------------------------------------------------

AddResult Session::add_magnet(MagnetLink link, AddTorrentParams params) {
    EventQueue::Operation operation(impl_->events);
    auto dir = impl_->download_dir_for(params);
    if (auto duplicate = impl_->refuse_or_duplicate_magnet(link)) return *duplicate;
    check_download_dir(dir);
    return impl_->insert_magnet(std::move(link), dir, std::move(params));
}

void Session::add_magnet(MagnetLink link, AddTorrentParams params, AddDone done) {
    auto* impl = impl_.get();
    auto dir = impl->download_dir_for(params);
    auto shared = std::make_shared<MagnetLink>(std::move(link));
    impl->add_async(
        dir, [impl, shared] { return impl->refuse_or_duplicate_magnet(*shared); },
        [impl, shared, dir, params = std::move(params)]() mutable {
            return impl->insert_magnet(std::move(*shared), dir, std::move(params));
        },
        std::move(done));
}

bool Session::has_metadata(const Sha1Hash& id) const {
    if (impl_->magnet(id)) return false;
    impl_->get(id);
    return true;
}

std::string Session::magnet_uri(const Sha1Hash& id) const {
    if (auto* entry = impl_->magnet(id)) {
        const auto& link = entry->job->link();
        auto uri = make_magnet(link.info_hash, link.display_name, link.trackers);
        std::size_t count = 0;
        for (const auto& [ep, source] : entry->job->known_peers()) {
            if (source == PeerSource::incoming || ++count > kMaxMagnetPeers) continue;
            uri += "&x.pe=" + endpoint_for_uri(ep);
        }
        return uri;
    }
    const auto& meta = impl_->get(id).metainfo();
    std::vector<std::string> trackers;
    for (const auto& tier : meta.announce_tiers)
        trackers.insert(trackers.end(), tier.begin(), tier.end());
    return make_magnet(meta.info_hash, meta.name, trackers);
}

}  // namespace btd
