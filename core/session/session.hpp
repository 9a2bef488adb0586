#pragma once
// The engine's public face: all torrent jobs, the shared listen port, limits and events.
// Every member function must be called on the network thread (the io_context's thread); the
// daemon and the RPC server run on that same thread, so no locks are needed.
//
// Events (types.hpp) are typed and delivered after the operation that raised them, never in the
// middle of it (see add_event_listener), so a listener may call any member function.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/metainfo/magnet.hpp"
#include "core/metainfo/metainfo.hpp"
#include "core/session/types.hpp"
#include "core/util/engine_clock.hpp"
#include "core/util/hash.hpp"

namespace btd {

class Torrent;

using EventHandler = std::function<void(const SessionEvent&)>;

// Keeps a listener subscribed while it lives (move-only). Destroying it, or reset(), stops
// delivery at once, also in the middle of delivering an event to other listeners. It may
// outlive the Session.
class EventSubscription {
  public:
    EventSubscription() = default;
    explicit EventSubscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
    EventSubscription(EventSubscription&& other) noexcept : cancel_(std::move(other.cancel_)) {
        other.cancel_ = nullptr;
    }
    EventSubscription& operator=(EventSubscription&& other) noexcept {
        if (this != &other) {
            reset();
            cancel_ = std::move(other.cancel_);
            other.cancel_ = nullptr;
        }
        return *this;
    }
    ~EventSubscription() { reset(); }
    void reset() {
        auto cancel = std::move(cancel_);
        cancel_ = nullptr;
        if (cancel) cancel();
    }

  private:
    std::function<void()> cancel_;
};

class Session {
  public:
    // `clock` is what every time-based decision and date reads (core/util/engine_clock.hpp): the
    // real one, or a manual one in unit tests; it must outlive the Session.
    Session(boost::asio::io_context& io, SessionSettings settings,
            const EngineClock& clock = system_clock());
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Adding a torrent. Creating the download directory and checking it is writable are
    // file-system calls; where they run is part of each form's contract:
    // - add_torrent(meta, params) makes them on the calling (network) thread and throws
    //   SessionError (duplicate torrent, download dir not writable, ...). For start-up and
    //   single-torrent mode only, where nothing else is waiting on the network thread.
    // - add_torrent(meta, params, done) and add_torrent_file(...) make every file-system call on
    //   the disk pool and call done() later on the network thread with the result or the
    //   exception the first form would throw; the network thread never waits for the disk. The
    //   checks (duplicate, shutting down, being removed) are made again once the disk answered.
    //   done() runs exactly once, never before the call returns, unless the Session is
    //   destroyed first.
    AddResult add_torrent(Metainfo meta, AddTorrentParams params);
    using AddOutcome = std::variant<AddResult, std::exception_ptr>;
    using AddDone = std::function<void(AddOutcome)>;
    void add_torrent(Metainfo meta, AddTorrentParams params, AddDone done);
    // Also reads and parses the .torrent file on the disk pool (MetainfoError if it cannot).
    void add_torrent_file(std::filesystem::path file, AddTorrentParams params, AddDone done);
    // A magnet link's job (session_magnets.cpp): state `metadata` (TorrentState::
    // downloading_metadata) while it fetches the info dictionary from peers (BEP 9), then a
    // torrent like any other with the same id (MetadataReceivedEvent). Both forms keep the
    // contract of the add_torrent form with the same arguments; params.file_priorities apply
    // once the files are known (dropped, logged, if their count does not fit).
    AddResult add_magnet(MagnetLink link, AddTorrentParams params);
    void add_magnet(MagnetLink link, AddTorrentParams params, AddDone done);
    // False while a magnet job waits for its metadata.
    bool has_metadata(const Sha1Hash& id) const;
    // A magnet link for the job: its trackers and, while it waits for metadata, the peers it
    // knows (x.pe), so a stored link finds them again after a restart.
    std::string magnet_uri(const Sha1Hash& id) const;
    // All of these throw SessionError{unknown_torrent} for an id not in the session.
    void pause(const Sha1Hash& id);
    void resume(const Sha1Hash& id);
    void verify(const Sha1Hash& id);  // drop state and re-check the data on disk
    // The download queue (session_queue.cpp). start_now resumes the torrent outside the queue's
    // limits until it is paused; queue_move reorders (ids in any order; unknown ones throw
    // before anything moves).
    void start_now(const Sha1Hash& id);
    void queue_move(const std::vector<Sha1Hash>& ids, QueueMove to);
    // Puts the torrent at `position` in the queue (clamped to 0..n-1); the others shift.
    void queue_set_position(const Sha1Hash& id, std::int64_t position);
    // Asks the torrent's trackers for peers now, or as soon as their minimum interval allows.
    void reannounce(const Sha1Hash& id);
    // Moves the torrent's data to `dir` (move), or only looks for it there and checks every
    // piece again (!move), while the job goes on. Throws SessionError{invalid_argument} for a
    // relative dir or a torrent already being moved. The file work runs on the disk pool;
    // done(error) runs later on the network thread ("" = done; else the data stayed where it was
    // and the torrent stopped with that error).
    void set_location(const Sha1Hash& id, std::filesystem::path dir, bool move,
                      std::function<void(std::string)> done = {});
    // The job disappears from list() at once; done() runs when its disk work is over and, with
    // delete_data, its files are deleted. Until then add_torrent() of the same torrent (or of
    // one using the paths being deleted) throws SessionError{being_removed}.
    void remove(const Sha1Hash& id, bool delete_data, std::function<void()> done = {});
    void set_torrent_limits(const Sha1Hash& id, const TorrentLimits& limits);
    // One priority per file: 0 = skip, 1 = low, 4 = normal, 7 = high. Throws
    // SessionError{invalid_argument} if the count or a value is wrong.
    void set_file_priorities(const Sha1Hash& id, const std::vector<int>& priorities);
    void set_sequential(const Sha1Hash& id, bool on);  // pieces in order, for streaming
    std::vector<int> file_priorities(const Sha1Hash& id) const;
    // Replaces the torrent's labels (empty = none). Throws SessionError{invalid_argument} for a
    // bad label (labels.hpp says which are), leaving the old ones.
    void set_labels(const Sha1Hash& id, const std::vector<std::string>& labels);

    bool contains(const Sha1Hash& id) const;
    std::vector<Sha1Hash> ids() const;
    std::size_t torrent_count() const;  // torrents and magnets: the size of list()
    std::vector<TorrentStatus> list() const;
    // Calls `visit` with the status of every torrent and magnet in list() order, without a
    // vector: the status passed is only valid during the call (it is reused for the next one).
    // `visit` must not add or remove torrents.
    void for_each_status(const std::function<void(const TorrentStatus&)>& visit) const;
    // For pollers: the torrents whose status changed (or that were added) and the ids removed
    // after `since`, a sequence number from an earlier result (0 or any unknown value: the
    // complete list). Compares each torrent's status with the one last seen (a fingerprint
    // and a counter per torrent); no work at all between calls.
    StatusChanges changes_since(std::uint64_t since);
    TorrentDetails details(const Sha1Hash& id) const;
    // Flushes the torrent's written data, then reports its resume data (on the network thread).
    void save_resume_data(const Sha1Hash& id, std::function<void(ResumeData)> done);
    // For a magnet job without metadata (has_metadata() false): only info_hash, name (the
    // link's dn, else the hex id) and announce_tiers are set; no files, no pieces, no raw_info.
    // raw_info is also empty while a paused torrent left it in its info file (below).
    const Metainfo& metainfo(const Sha1Hash& id) const;
    // The .torrent of a job added without AddTorrentParams::info_file, once it is stored: a
    // paused torrent then leaves its info dictionary there. Ignored for magnets without
    // metadata and unknown ids.
    void set_info_file(const Sha1Hash& id, std::filesystem::path file);
    SessionStats stats() const;
    // Runs `work` on the disk pool, then `done` on the network thread unless the Session was
    // destroyed first: for file-system calls of the daemon and RPC (free space, reading a dropped
    // .torrent) that must not hold up the network thread. `work` must not throw.
    void run_on_disk(std::function<void()> work, std::function<void()> done);

    const SessionSettings& settings() const;
    void apply_settings(const SessionSettings& settings);  // limits etc. at run time

    // Subscribes `handler` to every event (types.hpp), in the order the engine raised them;
    // several listeners may be subscribed (the daemon's log and state files, an event stream).
    // Delivery happens on the network thread after the operation that raised the event is over:
    // - events raised by a member function call are delivered just before the outermost call
    //   returns (so a caller such as torrent.add sees its `added` handled by then);
    // - events raised by the engine's own work (disk, timers, peers) are delivered by a handler
    //   posted to the io_context.
    // A handler may call any member function (add, remove, shutdown, ...); that call does its
    // work at once, and the events it raises are delivered after the handler returns, behind
    // the ones already queued. A handler must not destroy the Session; an exception it throws is
    // logged and goes no further.
    [[nodiscard]] EventSubscription add_event_listener(EventHandler handler);

    // Tells trackers `stopped`, flushes storage; done() runs when finished (bounded time).
    void shutdown(std::function<void()> done);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace btd
