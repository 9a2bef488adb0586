#pragma once
// Keeps the state dir in step with the session: stores each job's .torrent when it is added,
// saves resume data after changes (at most every `min_interval` per job, and every `periodic`
// while pieces keep arriving, so a kill -9 loses little), deletes a job's files when it is
// removed, and saves everything at shutdown. Runs on the network thread; the file writes happen
// on a SerialWorker.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "core/session/session.hpp"
#include "core/util/sha1_map.hpp"
#include "daemon/job_store.hpp"
#include "daemon/serial_worker.hpp"

namespace btd::daemon {

struct SaveTiming {
    std::chrono::milliseconds min_interval{5000};  // between saves of one job after a change
    std::chrono::milliseconds periodic{30000};     // while only pieces arrived
    std::chrono::milliseconds tick{1000};
};

// Per-job bookkeeping, public so the decision can be tested on its own.
struct SaveState {
    std::chrono::steady_clock::time_point last_save{};  // epoch: never saved
    bool urgent = false;                                // state or settings changed: save soon
    bool dirty = false;                                 // pieces arrived: save periodically
    bool checking = false;  // the have-bits are incomplete until the check ends: don't save
    bool saving = false;    // a save is in flight
};
bool save_due(const SaveState& s, std::chrono::steady_clock::time_point now,
              const SaveTiming& timing);

// What a job was added with (download dir, paused, file priorities, sequential, added_at), as
// resume data without have-bits: stored when the job is added, so a stop before its first real
// save (during the first check) restores it as it was asked for, with every file checked.
ResumeData add_parameters(const Session& session, const Sha1Hash& id);

class ResumeSaver {
  public:
    ResumeSaver(boost::asio::io_context& io, Session& session, JobStore& store,
                SerialWorker& worker, SaveTiming timing = {});
    ~ResumeSaver();

    void start();  // begins the periodic check
    // While on, added jobs are restored from the state dir, whose files they came from: their
    // add is not written again (the first tick still saves their resume data, as for any add).
    void set_restoring(bool on) { restoring_ = on; }
    void on_event(const SessionEvent& event);
    // Saves every job that is not being checked (a cancelled check would leave partial data:
    // its previous resume file stays). `done` runs on the network thread once every write is
    // queued on the worker; post a task to the worker to learn when they reached the disk.
    void save_all(std::function<void()> done);
    // Runs `done` on the network thread once every write queued so far (e.g. a new job's files
    // after its `added` event) is durable. Never waits on the calling thread.
    void when_stored(std::function<void()> done);
    void stop();  // cancels the timer; later completions are ignored

    std::uint64_t saves_written() const { return saves_written_; }

  private:
    struct Entry : SaveState {
        std::uint64_t generation = 0;      // changes when an id is removed and added again
        std::uint64_t last_requested = 0;  // sequence of the newest save asked of the engine
        std::shared_ptr<std::uint64_t> last_written = std::make_shared<std::uint64_t>(0);
    };
    void schedule_tick();
    void save(const Sha1Hash& id, Entry& entry, std::function<void()> queued = {});
    void save_magnet(const Sha1Hash& id);
    void offer_info_file(const Sha1Hash& id);

    boost::asio::io_context& io_;
    Session& session_;
    JobStore& store_;
    SerialWorker& worker_;
    SaveTiming timing_;
    boost::asio::steady_timer timer_;
    Sha1Map<Entry> entries_;
    // Jobs an event concerned since they were last saved: the tick looks only at these, so
    // 10,000 paused jobs cost nothing per second. Left when neither urgent nor dirty.
    Sha1Set wanting_;
    std::uint64_t next_generation_ = 1;
    std::uint64_t next_sequence_ = 1;
    std::uint64_t saves_written_ = 0;
    bool restoring_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd::daemon
