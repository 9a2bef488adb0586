#pragma once
// What btd does when a download finishes: `on_complete` runs a program (fork/exec through
// posix_spawn, no shell: the torrent's name reaches it only as an environment value) with
//   BTD_TORRENT_ID (info-hash, hex), BTD_TORRENT_NAME, BTD_DOWNLOAD_DIR, BTD_LABELS (comma-joined)
// besides btd's own environment, stdin /dev/null, stdout and stderr logged line by line; it is
// killed (its whole process group) after `timeout`. `on_complete_url` gets an HTTP(S) POST of the
// torrent's summary as JSON (torrent.get's summary), retried with doubling back-off on a
// transport error or a non-2xx status, a bounded number of times, each attempt bounded in time;
// an https server whose certificate is not trusted (system store, plus `ca_file`) is not retried.
// A program still running when btd exits is stopped by stop_running(): SIGTERM to its process
// group, SIGKILL after a short grace, each logged.
// Network thread only; the io_context must outlive it (running hooks are guarded).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace btd::daemon {

struct CompletedTorrent {
    std::string id;    // info-hash, hex
    std::string name;  // as the torrent says: untrusted text
    std::string download_dir;
    std::vector<std::string> labels;
    nlohmann::json summary;  // for the webhook
};

// The child's environment: `base` (NAME=value entries) without any BTD_* entries, then the four
// BTD_* values. Pure.
std::vector<std::string> hook_environment(const CompletedTorrent& torrent,
                                          const std::vector<std::string>& base);

class CompletionHook {
  public:
    struct Options {
        std::filesystem::path program;  // empty: no program
        std::chrono::seconds timeout{300};
        std::string url;                // empty: no webhook
        std::filesystem::path ca_file;  // PEM CAs trusted besides the system's; empty: none
        int url_attempts = 5;
        std::chrono::milliseconds url_first_backoff = std::chrono::seconds(2);
        std::chrono::milliseconds url_timeout = std::chrono::seconds(15);
        std::chrono::milliseconds exit_grace = std::chrono::seconds(2);  // SIGTERM to SIGKILL
    };
    using Running = std::map<int, std::string>;  // pid -> label, of programs not yet reaped

    // Throws std::runtime_error naming the file if `ca_file` cannot be loaded.
    CompletionHook(boost::asio::io_context& io, Options options);
    ~CompletionHook();

    void on_completed(const CompletedTorrent& torrent);
    // At exit, once the io_context no longer runs: stops every program still running (SIGTERM,
    // then SIGKILL after exit_grace), reaps it and logs what happened. Blocks up to exit_grace.
    void stop_running();

  private:
    void run_program(const CompletedTorrent& torrent);
    void post_webhook(const CompletedTorrent& torrent);

    boost::asio::io_context& io_;
    Options options_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::shared_ptr<Running> running_ = std::make_shared<Running>();
};

}  // namespace btd::daemon
