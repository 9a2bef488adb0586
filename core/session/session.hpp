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
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/metainfo/metainfo.hpp"
#include "core/session/types.hpp"
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
    Session(boost::asio::io_context& io, SessionSettings settings);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Throws SessionError (duplicate torrent, download dir not writable, ...).
    AddResult add_torrent(Metainfo meta, AddTorrentParams params);
    // All of these throw SessionError{unknown_torrent} for an id not in the session.
    void pause(const Sha1Hash& id);
    void resume(const Sha1Hash& id);
    void verify(const Sha1Hash& id);  // drop state and re-check the data on disk
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

    bool contains(const Sha1Hash& id) const;
    std::vector<Sha1Hash> ids() const;
    std::vector<TorrentStatus> list() const;
    TorrentDetails details(const Sha1Hash& id) const;
    // Flushes the torrent's written data, then reports its resume data (on the network thread).
    void save_resume_data(const Sha1Hash& id, std::function<void(ResumeData)> done);
    const Metainfo& metainfo(const Sha1Hash& id) const;
    SessionStats stats() const;

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
