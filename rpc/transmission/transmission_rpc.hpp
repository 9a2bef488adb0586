#pragma once
// The Transmission-compatible RPC (docs/rpc-spec.md of Transmission 4.0, rpc-version 17): a
// translation layer over the same Session calls as btd's own methods. Requests are
// {"method", "arguments", "tag"}; replies {"result": "success" or an error, "arguments", "tag"}.
// Knows nothing of HTTP (see transmission_route.hpp). Network thread only; the Session and the
// io_context must outlive it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/session/session.hpp"
#include "rpc/methods/session_methods.hpp"
#include "rpc/methods/session_totals.hpp"
#include "rpc/transmission/torrent_ids.hpp"
#include "rpc/transport/url_fetch.hpp"

namespace btd::rpc::transmission {

inline constexpr int kRpcVersion = 17;  // Transmission 4.0
inline constexpr int kRpcVersionMinimum = 14;
inline constexpr std::string_view kRpcVersionSemver = "5.3.0";

struct TransmissionOptions {
    std::string config_dir;  // reported as config-dir: btd's state dir
    std::string session_id;  // X-Transmission-Session-Id, also reported by session-get
    // session-set's names, ranges and checks: the same as session.set's (the daemon's settings
    // table). Unset: session-set answers that it is not supported.
    SettingsSchema settings;
    // Called after session-set changed settings (the daemon persists them, as for session.set).
    std::function<void(const SessionSettings&)> settings_changed;
    FetchOptions fetch;  // torrent-add with a URL
    // As SessionMethodsOptions: torrent-add replies once a new job is durable, and
    // download-dir (torrent-add, session-set) must lie in one of these dirs (empty = anywhere).
    std::function<void(std::function<void()> stored)> job_added;
    std::vector<std::filesystem::path> allowed_download_dirs;
    // session-stats current-stats/cumulative-stats (kept across restarts by the daemon). Unset:
    // this run's numbers from the Session, and for cumulative the torrents now in it.
    SessionTotalsSource totals;
};

// "4.0.0 (btd X.Y.Z)": Sonarr and Radarr read the first version number and turn labels on
// from 4.0; btd's own version is in the parentheses, where Transmission puts its revision.
std::string version_string();

class TransmissionRpc {
  public:
    using Reply = std::function<void(std::string body)>;
    // Reports a method's outcome: "success" or an error text, and the reply's arguments.
    using Done = std::function<void(std::string result, nlohmann::json arguments)>;
    using Method = std::function<void(const nlohmann::json& arguments, Done done)>;
    // A synchronous method that writes its reply's arguments object as JSON text itself
    // (torrent-get: no JSON tree for thousands of torrents). Throws as a Method does.
    using TextMethod = std::function<std::string(const nlohmann::json& arguments)>;

    TransmissionRpc(Session& session, boost::asio::io_context& io, TransmissionOptions options);

    // Handles one request body; `reply` runs exactly once, maybe later (a URL fetch, a removal
    // that deletes data). Never throws.
    void handle(std::string_view body, Reply reply);

    const TransmissionOptions& options() const { return options_; }

    // Shared by the method files (internal).
    struct Context {
        Session& session;
        boost::asio::io_context& io;
        TorrentIds& ids;
        const TransmissionOptions& options;
        Clock::time_point started;  // for session-stats and recently-active removals
        std::shared_ptr<boost::asio::ssl::context> tls;
    };

  private:
    void add(std::string name, Method method);
    void add_sync(std::string name, std::function<nlohmann::json(const nlohmann::json&)> method);
    void call(const std::string& name, const nlohmann::json& arguments, Done done);
    bool call_text(const std::string& name, const nlohmann::json& arguments,
                   const std::function<void(std::string result, std::string arguments)>& done);

    Session& session_;
    TransmissionOptions options_;
    TorrentIds ids_;
    Context context_;
    std::map<std::string, Method, std::less<>> methods_;
    std::map<std::string, TextMethod, std::less<>> text_methods_;
    EventSubscription events_;  // torrents coming and going: ids_ syncs again
};

// Thrown by methods: its text becomes the reply's `result`.
struct MethodError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The method families, registered by the TransmissionRpc constructor (internal).
using Registrar = std::function<void(std::string, TransmissionRpc::Method)>;
using SyncRegistrar =
    std::function<void(std::string, std::function<nlohmann::json(const nlohmann::json&)>)>;
void register_session_requests(const Registrar& add, const SyncRegistrar& add_sync,
                               TransmissionRpc::Context& context);
using TextRegistrar = std::function<void(std::string, TransmissionRpc::TextMethod)>;
void register_torrent_get(const TextRegistrar& add, TransmissionRpc::Context& context);
void register_torrent_actions(const Registrar& add, const SyncRegistrar& add_sync,
                              TransmissionRpc::Context& context);

}  // namespace btd::rpc::transmission
