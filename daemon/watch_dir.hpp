#pragma once
// The watch directory: `.torrent` and `.magnet` files dropped into `watch_dir` are added through
// the same path as RPC torrent.add (so a magnet works exactly when torrent.add takes one), then
// renamed `<name>.added` (or removed, with watch_dir_delete); a file btd cannot use is renamed
// `<name>.invalid` and the reason logged. A file is picked up only once its size and mtime were
// the same in two scans in a row, so a file still being written is left alone. Listing,
// reading, renaming and removing run on the Session's disk pool; the rest on the network thread.
// Network thread only; the Session and io_context must outlive it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/session/session.hpp"

namespace btd::daemon {

// One file of a scan.
struct WatchEntry {
    std::string name;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const WatchEntry&) const = default;
};

// A name the watch dir takes: ends in .torrent or .magnet (any case), not hidden (editors and
// rsync write `.name.tmp` first).
bool is_watched_name(std::string_view name);

// Pure: the files whose size and mtime did not change since the previous scan. Names gone from
// the scan are forgotten.
class StableFiles {
  public:
    std::vector<std::string> update(const std::vector<WatchEntry>& scan);

  private:
    std::map<std::string, WatchEntry> last_;
};

// What became of torrent.add for one file.
struct AddOutcome {
    enum class Kind { added, duplicate, invalid, retry } kind = Kind::added;
    std::string message;  // the torrent's name, or why it failed
};
// Maps a torrent.add JSON-RPC error code: the file's fault (not a torrent, bad magnet, not
// supported) -> invalid; the daemon's state (shutting down, being removed, download dir) -> retry.
AddOutcome::Kind outcome_for_error(int code);

class WatchDir {
  public:
    struct Options {
        std::filesystem::path dir;
        bool delete_added = false;  // remove instead of renaming to .added
        std::chrono::milliseconds interval = std::chrono::seconds(2);
        std::chrono::milliseconds retry_after = std::chrono::seconds(60);
    };
    // Calls torrent.add with `params` ({"path": ...} or {"uri": ...}); `done` runs once, later.
    using AddCall = std::function<void(nlohmann::json params, std::function<void(AddOutcome)>)>;

    WatchDir(boost::asio::io_context& io, Session& session, Options options, AddCall add);
    ~WatchDir();
    void start();
    void stop();

  private:
    void schedule();
    void scan();
    void on_scan(std::vector<WatchEntry> entries, std::string error);
    void take(const std::string& name);
    void add_with(const std::string& name, nlohmann::json params);
    void finish(const std::string& name, const AddOutcome& outcome);

    Session& session_;
    Options options_;
    AddCall add_;
    boost::asio::steady_timer timer_;
    StableFiles stable_;
    std::set<std::string> in_flight_;  // being added or renamed
    std::map<std::string, std::chrono::steady_clock::time_point> retry_at_;
    std::string last_error_;  // of the last scan, logged once
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd::daemon
