#pragma once
// Binds the engine's Session to a Dispatcher: the torrent.*, session.* and daemon.* methods of
// the RPC contract (docs in rpc/README.md). Handlers run on the io_context thread and call the
// Session directly.
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <vector>

#include "core/session/session.hpp"
#include "rpc/methods/session_totals.hpp"
#include "rpc/transport/dispatcher.hpp"
#include "rpc/transport/url_fetch.hpp"

namespace btd::rpc {

// What session.get shows and session.set takes: names, types and ranges. The daemon's settings
// table provides them (daemon/settings.hpp: rpc_settings, apply_rpc_settings).
struct SettingsSchema {
    // The settings by name, read from the engine's settings.
    std::function<nlohmann::json(const SessionSettings&)> values;
    // `params` applied over `current` after every param was checked; throws
    // std::invalid_argument with a message for the caller (the first unknown or bad param).
    std::function<SessionSettings(const nlohmann::json& params, SessionSettings current)> apply;
};

struct SessionMethodsOptions {
    // session.get / session.set. Unset: session.get shows the engine's settings and session.set
    // answers "not supported".
    SettingsSchema settings;
    // daemon.shutdown: posted to the io_context after the reply is queued. Unset: the method
    // answers "not supported".
    std::function<void()> shutdown;
    // Called after session.set applied new settings (the daemon persists them in its state dir).
    std::function<void(const SessionSettings&)> settings_changed;
    // Limits for torrent.add with an http(s) URL.
    FetchOptions fetch;
    // Called after torrent.add added a new job; the reply waits until `stored` runs (the daemon
    // makes the job's add parameters durable first). Unset: the reply is sent at once.
    std::function<void(std::function<void()> stored)> job_added;
    // Where torrent.add and session.set may put data (canonical paths); empty = anywhere.
    std::vector<std::filesystem::path> allowed_download_dirs;
    // session.stats `current` and `cumulative` (kept across restarts by the daemon). Unset:
    // both are left out.
    SessionTotalsSource totals;
};

// Registers every method. `session` and `io` must outlive the dispatcher's use.
void register_session_methods(Dispatcher& dispatcher, Session& session, boost::asio::io_context& io,
                              SessionMethodsOptions options = {});

// The pieces, for callers that want only some of them.
void register_torrent_methods(Dispatcher& dispatcher, Session& session);
void register_torrent_add(Dispatcher& dispatcher, Session& session, boost::asio::io_context& io,
                          const SessionMethodsOptions& options);
void register_settings_methods(Dispatcher& dispatcher, Session& session,
                               const SessionMethodsOptions& options);
void register_daemon_methods(Dispatcher& dispatcher, boost::asio::io_context& io,
                             std::function<void()> shutdown);
// torrent.start_now, torrent.queue_move, torrent.reannounce, torrent.set_location.
void register_queue_methods(Dispatcher& dispatcher, Session& session,
                            const SessionMethodsOptions& options);

}  // namespace btd::rpc
