#include "daemon/resume_saver.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/torrent_file.hpp"

namespace btd::daemon {

using Clock = std::chrono::steady_clock;

bool save_due(const SaveState& s, Clock::time_point now, const SaveTiming& timing) {
    if (s.saving || s.checking) return false;
    auto since = now - s.last_save;
    return (s.urgent && since >= timing.min_interval) || (s.dirty && since >= timing.periodic);
}

ResumeData add_parameters(const Session& session, const Sha1Hash& id) {
    auto status = session.details(id).status;
    ResumeData params;  // no have-bits, no file stamps: restoring it checks every file
    params.paused = status.state == TorrentState::paused;
    params.added_at = status.added_at;
    params.download_dir = status.download_dir;
    params.sequential = status.sequential;
    params.labels = status.labels;
    auto priorities = session.file_priorities(id);
    const int normal = FileStatus{}.priority;
    if (std::any_of(priorities.begin(), priorities.end(), [&](int p) { return p != normal; }))
        params.file_priorities = std::move(priorities);
    return params;
}

ResumeSaver::ResumeSaver(boost::asio::io_context& io, Session& session, JobStore& store,
                         SerialWorker& worker, SaveTiming timing)
    : io_(io), session_(session), store_(store), worker_(worker), timing_(timing), timer_(io) {}

ResumeSaver::~ResumeSaver() {
    try {
        stop();
    } catch (const std::exception& e) {  // a destructor must not throw
        spdlog::warn("stopping the resume saver: {}", e.what());
    }
}

void ResumeSaver::start() {
    schedule_tick();
}

void ResumeSaver::stop() {
    timer_.cancel();
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);  // callbacks from before stop() see the old flag
}

void ResumeSaver::schedule_tick() {
    timer_.expires_after(timing_.tick);
    timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
        auto flag = alive.lock();
        if (ec || !flag || !*flag) return;
        auto now = Clock::now();
        for (auto it = wanting_.begin(); it != wanting_.end();) {
            auto entry = entries_.find(*it);
            if (entry == entries_.end() || !(entry->second.urgent || entry->second.dirty)) {
                it = wanting_.erase(it);
                continue;
            }
            if (save_due(entry->second, now, timing_)) save(*it, entry->second);
            ++it;
        }
        schedule_tick();
    });
}

void ResumeSaver::on_event(const SessionEvent& e) {
    if (e.get<RemovedEvent>()) {
        entries_.erase(e.id);
        worker_.post([store = &store_, id = e.id] { store->remove(id); });
        return;
    }
    auto it = entries_.find(e.id);
    if (it == entries_.end()) {
        if (!e.get<AddedEvent>() || !session_.contains(e.id)) return;
        it = entries_.emplace(e.id, Entry{}).first;
        it->second.generation = next_generation_++;
    }
    auto& entry = it->second;
    wanting_.insert(e.id);
    if (e.get<AddedEvent>()) {
        entry.urgent = true;
        if (restoring_) return;  // its files are where it was read from
        // A new job's resume file holds its add parameters at once: the first real save
        // waits for the check, and a stop before it must not lose download_dir & co.
        if (!session_.has_metadata(e.id)) return save_magnet(e.id);
        worker_.post([store = &store_, id = e.id,
                      bytes = encode_torrent_file(session_.metainfo(e.id)),
                      params = add_parameters(session_, e.id)] {
            if (store->has_torrent(id)) return;  // restored, not new
            store->save_torrent(id, bytes);
            store->save_resume(id, params);
        });
        offer_info_file(e.id);
    } else if (e.get<MetadataReceivedEvent>()) {
        // The .torrent is durable before the link goes: a restart never needs peers again.
        entry.urgent = true;
        worker_.post(
            [store = &store_, id = e.id, bytes = encode_torrent_file(session_.metainfo(e.id))] {
                store->save_torrent(id, bytes);
                try {
                    store->commit();
                    store->remove_magnet(id);
                } catch (const std::exception& ex) {
                    spdlog::error("cannot save the .torrent of {}: {}", to_hex(id), ex.what());
                }
            });
    } else if (auto* change = e.get<StateChangedEvent>()) {
        entry.checking = change->new_state == TorrentState::checking;
        entry.urgent = true;
    } else if (e.get<PieceVerifiedEvent>()) {
        entry.dirty = true;
    } else if (e.get<CompletedEvent>() || e.get<ErrorEvent>() || e.get<ResumeDataChangedEvent>()) {
        entry.urgent = true;
    }
}

// A new magnet job: its link (with the peers known so far) and add parameters.
void ResumeSaver::save_magnet(const Sha1Hash& id) {
    worker_.post([store = &store_, id, uri = session_.magnet_uri(id),
                  params = add_parameters(session_, id)] {
        if (store->has_magnet(id)) return;  // restored, not new
        store->save_magnet(id, uri);
        store->save_resume(id, params);
    });
}

void ResumeSaver::save(const Sha1Hash& id, Entry& entry, std::function<void()> queued) {
    entry.saving = true;
    entry.urgent = entry.dirty = false;
    entry.last_save = Clock::now();
    auto sequence = entry.last_requested = next_sequence_++;
    session_.save_resume_data(
        id, [this, id, sequence, generation = entry.generation, last_written = entry.last_written,
             alive = std::weak_ptr<bool>(alive_), queued = std::move(queued)](ResumeData data) {
            auto flag = alive.lock();
            auto it = entries_.end();
            if (flag && *flag) it = entries_.find(id);
            // Gone (removed, maybe re-added) or stopped: the files are not ours to write.
            if (it != entries_.end() && it->second.generation == generation) {
                if (it->second.last_requested == sequence) it->second.saving = false;
                // The disk pool may finish saves out of order: never write older data last.
                if (sequence > *last_written) {
                    *last_written = sequence;
                    ++saves_written_;
                    worker_.post([store = &store_, id, data = std::move(data)] {
                        store->save_resume(id, data);
                    });
                }
            }
            if (queued) queued();
        });
}

// Once the job's .torrent is committed, a paused torrent may leave its info dictionary there
// (Session::set_info_file); a .torrent that could not be stored is not offered.
void ResumeSaver::offer_info_file(const Sha1Hash& id) {
    worker_.post([this, id, alive = std::weak_ptr<bool>(alive_)] {
        try {
            store_.commit();
        } catch (const std::exception& e) {
            spdlog::error("cannot save the job list: {}", e.what());
        }
        if (!store_.has_torrent(id)) return;
        boost::asio::post(io_, [this, id, file = store_.torrent_path(id), alive] {
            if (auto flag = alive.lock(); flag && *flag) session_.set_info_file(id, file);
        });
    });
}

void ResumeSaver::when_stored(std::function<void()> done) {
    worker_.post([this, done = std::move(done), alive = std::weak_ptr<bool>(alive_)] {
        try {
            store_.commit();
        } catch (const std::exception& e) {
            spdlog::error("cannot save the job list: {}", e.what());
        }
        boost::asio::post(io_, [done, alive] {
            if (auto flag = alive.lock(); flag && *flag) done();
        });
    });
}

void ResumeSaver::save_all(std::function<void()> done) {
    auto remaining = std::make_shared<std::size_t>(1);  // one for the loop itself
    auto finish = std::make_shared<std::function<void()>>(std::move(done));
    auto one_done = [remaining, finish] {
        if (--*remaining == 0) (*finish)();
    };
    for (auto& [id, entry] : entries_) {
        if (entry.checking) {
            spdlog::info("{}: still checking; keeping its previous resume data", to_hex(id));
            continue;
        }
        ++*remaining;
        save(id, entry, one_done);
    }
    boost::asio::post(io_, one_done);
}

}  // namespace btd::daemon
