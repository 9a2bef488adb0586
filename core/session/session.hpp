#pragma once
// The engine's public face: all torrent jobs, the shared listen port, limits and events.
// Every member function must be called on the network thread (the io_context's thread); the
// daemon and the RPC server run on that same thread, so no locks are needed.
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

    // Events: completed, error, state changed, piece failed, ... (see types.hpp).
    void set_event_handler(std::function<void(const SessionEvent&)> handler);

    // Tells trackers `stopped`, flushes storage; done() runs when finished (bounded time).
    void shutdown(std::function<void()> done);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace btd
