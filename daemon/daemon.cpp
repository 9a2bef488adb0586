#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/session/session.hpp"
#include "daemon/completion_hook.hpp"
#include "daemon/heap_trim.hpp"
#include "daemon/job_store.hpp"
#include "daemon/resume_saver.hpp"
#include "daemon/runtime_settings.hpp"
#include "daemon/serial_worker.hpp"
#include "daemon/session_totals.hpp"
#include "daemon/settings.hpp"
#include "daemon/state_dir.hpp"
#include "daemon/systemd_notify.hpp"
#include "daemon/watch_dir.hpp"
#include "daemon/web_services.hpp"
#include "rpc/methods/json_status.hpp"
#include "rpc/methods/session_methods.hpp"
#include "rpc/transmission/transmission_route.hpp"
#include "rpc/transport/dispatcher.hpp"
#include "rpc/transport/errors.hpp"
#include "rpc/transport/http_server.hpp"
#include "rpc/transport/secret.hpp"
#include "rpc/transport/state_files.hpp"

namespace btd::daemon {

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

constexpr auto kStatusInterval = 5s;
constexpr auto kShutdownDeadline = 15s;  // systemd's TimeoutStopSec is 20 s
constexpr int kTotalsEveryStatus = 12;   // session totals saved every minute (12 x 5 s)

DaemonConfig load_config(const DaemonOptions& options) {
    ConfigValues values;
    if (options.config_file) values = load_config_file(*options.config_file);
    values.override_with(options.cli_overrides);
    return resolve_config(values, options.getenv);
}

class Daemon {
  public:
    Daemon(const DaemonOptions& options, DaemonConfig config)
        : options_(options),
          config_(std::move(config)),
          lock_(config_.state_dir),
          store_(config_.state_dir),
          signals_(io_, SIGINT, SIGTERM, SIGHUP),
          status_timer_(io_),
          deadline_(io_) {}

    int run() {
        // First: a webhook_ca_file that cannot be loaded stops btd before it changes anything.
        hook_.emplace(io_, CompletionHook::Options{
                               .program = config_.on_complete,
                               .timeout = std::chrono::seconds(config_.on_complete_timeout),
                               .url = config_.on_complete_url,
                               .ca_file = config_.webhook_ca_file});
        store_.prepare();
        overrides_ = load_runtime_overrides(config_.state_dir);
        counter_.emplace(load_session_totals(config_.state_dir), SessionCounter::Clock::now());
        start_session();
        saver_ = std::make_unique<ResumeSaver>(io_, *session_, store_, worker_);
        events_ = session_->add_event_listener([this](const SessionEvent& e) { on_event(e); });
        saver_->set_restoring(true);
        restore_jobs();
        saver_->set_restoring(false);
        restored_ = true;
        save_totals();  // this run counts from its start
        saver_->start();
        if (!start_rpc()) return 1;
        start_watch_dir();
        watch_signals();
        notify_ready();
        report_status();
        spdlog::info("btd ready: {} torrents, state in {}, downloads to {}", session_->ids().size(),
                     config_.state_dir.string(),
                     session_->settings().default_download_dir.string());
        io_.run();
        if (hook_) hook_->stop_running();  // a hook must not outlive btd unseen
        if (exit_code_ != 0) {
            // The deadline passed: don't wait for the disk. Every file is either old or new.
            if (auto dropped = worker_.discard_pending())
                spdlog::warn("{} state writes not done", dropped);
        }
        worker_.drain();
        spdlog::info("btd stopped");
        return exit_code_;
    }

  private:
    void restore_jobs() {
        for (auto& job : store_.load_all()) {
            AddTorrentParams params;
            std::string how = "no resume data: checking its files";
            if (job.resume) {
                params.download_dir = job.resume->download_dir;
                params.paused = job.resume->paused;
                auto have = std::count(job.resume->have.begin(), job.resume->have.end(), '1');
                how = "resume data for " + std::to_string(have) + " of " +
                      std::to_string(job.meta.num_pieces()) + " pieces";
                // Stored at add time, before the first check ended (ResumeSaver).
                if (job.resume->have.empty()) how = "add parameters only: checking its files";
                params.resume = std::move(job.resume);
            }
            if (job.magnet) {
                restore_magnet(std::move(*job.magnet), std::move(params));
                continue;
            }
            auto name = job.meta.name;
            params.info_file = store_.torrent_path(job.meta.info_hash);
            try {
                session_->add_torrent(std::move(job.meta), std::move(params));
                spdlog::info("restored {}: {}", name, how);
            } catch (const std::exception& e) {
                // Files stay in the state dir: the job comes back when the problem is fixed.
                spdlog::error("cannot restore {}: {}", name, e.what());
            }
        }
    }

    // A magnet job restored from its link: it fetches the metadata again.
    void restore_magnet(MagnetLink link, AddTorrentParams params) {
        auto name = link.display_name.empty() ? to_hex(link.info_hash) : link.display_name;
        try {
            session_->add_magnet(std::move(link), std::move(params));
            spdlog::info("restored {}: a magnet link, fetching its metadata", name);
        } catch (const std::exception& e) {
            spdlog::error("cannot restore {}: {}", name, e.what());
        }
    }

    bool start_rpc() {
        rpc::RpcServerOptions options;
        options.address = config_.rpc_listen.host;
        options.port = config_.rpc_listen.port;
        options.extra_allowed_hosts = config_.rpc_allowed_hosts;
        try {
            if (config_.rpc_auth)
                options.auth_secret =
                    rpc::load_or_create_secret(config_.state_dir / rpc::kRpcSecretFile);
            else
                spdlog::warn(
                    "RPC authentication is off (rpc_auth = false): any local user or "
                    "program can control btd");
            rpc::SessionMethodsOptions methods;
            methods.shutdown = [this] { begin_shutdown("RPC request"); };
            methods.settings = {rpc_settings, apply_rpc_settings};
            methods.settings_changed = [this](const SessionSettings& s) { settings_changed(s); };
            methods.allowed_download_dirs = config_.allowed_download_dirs;
            // torrent.add answers once the new job's files are durable (ResumeSaver::on_event
            // queued them when the engine reported the job added).
            methods.job_added = [this](std::function<void()> stored) {
                saver_->when_stored(std::move(stored));
            };
            methods.totals = [this] { return session_totals(); };
            rpc::register_session_methods(dispatcher_, *session_, io_, methods);
            web_ = std::make_unique<WebServices>(io_, *session_, config_.state_dir,
                                                 options.auth_secret, config_.metrics_public);
            web_->install(dispatcher_, options);
            add_transmission_route(options, methods);
            server_ = std::make_unique<rpc::RpcServer>(io_, options, dispatcher_);
            server_->start();
            rpc::write_address_file(config_.state_dir, server_->local_endpoint());
        } catch (const std::exception& e) {
            spdlog::error("cannot start the RPC server on {}: {}", config_.describe()["rpc_listen"],
                          e.what());
            return false;
        }
        log_rpc_listening(server_->local_endpoint());
        return true;
    }

    // The address really bound: 0.0.0.0 means every interface, which the user should know.
    void log_rpc_listening(const boost::asio::ip::tcp::endpoint& bound) {
        auto address = bound.address();
        auto port = bound.port();
        auto shown = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
        if (!address.is_unspecified()) {
            spdlog::info("RPC listening on {}:{}", shown, port);
            return;
        }
        spdlog::info("RPC listening on {}:{} (every interface; this machine's programs use {})",
                     shown, port, rpc::client_address(bound));
        if (config_.rpc_allowed_hosts.empty())
            spdlog::warn(
                "RPC: requests from other machines must name btd in their Host header; add the "
                "names or addresses they use to rpc_allowed_hosts (or --rpc-allowed-hosts), else "
                "they get 403");
    }

    // /transmission/rpc for transmission-remote, *arr apps and dashboards: the same secret, or
    // the rpc_username/rpc_password pair (required even with rpc_auth = false when it is set).
    void add_transmission_route(rpc::RpcServerOptions& options,
                                const rpc::SessionMethodsOptions& methods) {
        rpc::transmission::TransmissionOptions transmission;
        transmission.config_dir = config_.state_dir.string();
        transmission.settings = methods.settings;
        transmission.settings_changed = methods.settings_changed;
        transmission.job_added = methods.job_added;
        transmission.allowed_download_dirs = methods.allowed_download_dirs;
        transmission.totals = methods.totals;
        transmission_ =
            std::make_unique<rpc::transmission::TransmissionRpc>(*session_, io_, transmission);
        rpc::transmission::TransmissionCredentials credentials{options.auth_secret, {}};
        if (!config_.rpc_username.empty())
            credentials.user_password = {config_.rpc_username, config_.rpc_password};
        auto route =
            std::make_shared<rpc::transmission::TransmissionRoute>(*transmission_, credentials);
        for (auto path : rpc::transmission::kTransmissionPaths) options.routes.emplace(path, route);
    }

    void start_watch_dir() {
        if (config_.watch_dir.empty()) return;
        WatchDir::Options options;
        options.dir = config_.watch_dir;
        options.delete_added = config_.watch_dir_delete;
        watch_dir_ = std::make_unique<WatchDir>(
            io_, *session_, options,
            [this](nlohmann::json params, auto done) { add_through_rpc(std::move(params), done); });
        watch_dir_->start();
    }

    // The watch dir adds through torrent.add itself: the same checks, durability and magnet
    // support as an RPC caller gets.
    void add_through_rpc(nlohmann::json params, std::function<void(AddOutcome)> done) {
        nlohmann::json request = {{"jsonrpc", "2.0"},
                                  {"id", 1},
                                  {"method", "torrent.add"},
                                  {"params", std::move(params)}};
        dispatcher_.handle(request.dump(), [done](std::optional<std::string> reply) {
            auto j = nlohmann::json::parse(reply.value_or("{}"), nullptr, false);
            if (j.is_object() && j.contains("result")) {
                const auto& r = j["result"];
                bool duplicate = r.value("duplicate", false);
                return done({duplicate ? AddOutcome::Kind::duplicate : AddOutcome::Kind::added,
                             r.value("name", std::string())});
            }
            int code = rpc::errc::internal_error;
            std::string message = "no reply from torrent.add";
            if (j.is_object() && j.contains("error") && j["error"].is_object()) {
                code = j["error"].value("code", code);
                message = j["error"].value("message", message);
            }
            done({outcome_for_error(code), message});
        });
    }

    void on_event(const SessionEvent& e) {
        auto name = [&](const std::string& n) { return n.empty() ? to_hex(e.id) : n; };
        count_transfers(e);
        if (auto* added = e.get<AddedEvent>()) {
            spdlog::info("added {} ({})", name(added->name), to_hex(e.id));
            trimmer_.note_job_changed();
        } else if (auto* removed = e.get<RemovedEvent>()) {
            spdlog::info("removed {} ({})", name(removed->name), to_hex(e.id));
            trimmer_.note_job_changed();
        } else if (auto* change = e.get<StateChangedEvent>()) {
            if (session_->contains(e.id))
                spdlog::info("{}: now {}", session_->metainfo(e.id).name,
                             to_string(change->new_state));
        } else if (auto* metadata = e.get<MetadataReceivedEvent>()) {
            spdlog::info("{}: metadata received ({})", metadata->name, to_hex(e.id));
        } else if (auto* error = e.get<ErrorEvent>()) {
            spdlog::error("{}: {}", to_hex(e.id), error->message);
        } else if (auto* completed = e.get<CompletedEvent>()) {
            // Only a download that finished: not a check finding complete data at start.
            if (completed->downloaded && hook_ && session_->contains(e.id)) run_hooks(e.id);
        }
        saver_->on_event(e);
    }

    // Session totals: every torrent's all-time bytes as the engine reports them (StatsEvent each
    // second); a torrent's first report is its baseline.
    void count_transfers(const SessionEvent& e) {
        if (auto* stats = e.get<StatsEvent>()) {
            for (const auto& t : stats->torrents) counter_->observe(t.id, t.downloaded, t.uploaded);
        } else if (e.get<AddedEvent>() && session_->contains(e.id)) {
            auto status = session_->details(e.id).status;
            counter_->observe(e.id, status.downloaded, status.uploaded);
            if (restored_) counter_->count_added();
        } else if (e.get<RemovedEvent>()) {
            counter_->forget(e.id);
        }
    }

    void run_hooks(const Sha1Hash& id) {
        auto status = session_->details(id).status;
        hook_->on_completed({to_hex(id), status.name, status.download_dir.string(), status.labels,
                             rpc::to_json(status)});
    }

    rpc::SessionTotalsPair session_totals() {
        for (const auto& t : session_->list()) counter_->observe(t.id, t.downloaded, t.uploaded);
        return counter_->totals(SessionCounter::Clock::now());
    }

    void save_totals() {
        worker_.post([dir = config_.state_dir, t = session_totals().cumulative] {
            try {
                save_session_totals(dir, t);
            } catch (const std::exception& e) {
                spdlog::warn("cannot save session totals: {}", e.what());
            }
        });
    }

    void start_session() {
        auto settings = apply_overrides(config_.session_settings(), overrides_);
        try {
            session_ = std::make_unique<Session>(io_, settings);
        } catch (const std::runtime_error& e) {
            // A port set over RPC may be taken by now: the config's port is better than no
            // daemon. An unusable config port still stops the start.
            if (!overrides_.contains("listen_port")) throw;
            spdlog::error("{}; using the config's listen_port {} instead of the one in {}",
                          e.what(), config_.listen_port, kRuntimeSettingsFile);
            overrides_.erase("listen_port");
            worker_.post(
                [dir = config_.state_dir, o = overrides_] { save_runtime_overrides(dir, o); });
            settings.listen_port = config_.listen_port;
            session_ = std::make_unique<Session>(io_, settings);
        }
        listen_port_ = session_->settings().listen_port;
    }

    void settings_changed(const SessionSettings& now) {
        auto fresh = overrides_after_set(overrides_, config_.session_settings(), now, listen_port_);
        listen_port_ = now.listen_port;
        if (fresh == overrides_) return;
        overrides_ = fresh;
        spdlog::info("runtime settings changed; saved to {}", kRuntimeSettingsFile);
        worker_.post([dir = config_.state_dir, o = overrides_] { save_runtime_overrides(dir, o); });
    }

    void watch_signals() {
        signals_.async_wait([this](boost::system::error_code ec, int signo) {
            if (ec) return;
            if (signo == SIGHUP) {
                reload();
            } else if (shutting_down_) {
                spdlog::warn("second {}: exiting now without saving", strsignal(signo));
                std::_Exit(1);
            } else {
                begin_shutdown(strsignal(signo));
            }
            watch_signals();
        });
    }

    void reload() {
        if (shutting_down_) return;
        notify_reloading();
        DaemonConfig next;
        try {
            next = load_config(options_);
        } catch (const std::exception& e) {
            spdlog::error("reload failed, keeping the current configuration: {}", e.what());
            notify_ready();
            return;
        }
        auto before = config_.describe(), after = next.describe();
        int changes = 0;
        for (auto& [key, value] : after) {
            if (before[key] == value) continue;
            ++changes;
            if (find_setting(key)->hidden) {
                spdlog::info("reload: {} changed (hidden){}", key,
                             find_setting(key)->reloadable ? "" : "; needs a restart");
            } else if (find_setting(key)->reloadable)
                spdlog::info("reload: {} = {} (was {})", key, value, before[key]);
            else
                spdlog::warn("reload: {} = {} needs a restart to take effect (running with {})",
                             key, value, before[key]);
        }
        // Keys the daemon cannot change at run time stay as they are until a restart.
        for (const auto& setting : settings())
            if (!setting.reloadable) setting.keep(next, config_);
        auto dropped = drop_overrides_changed_in_config(overrides_, config_.session_settings(),
                                                        next.session_settings());
        for (auto& key : dropped)
            spdlog::info("reload: {} changed in the config file; it replaces the runtime value",
                         key);
        if (!dropped.empty())
            worker_.post(
                [dir = config_.state_dir, o = overrides_] { save_runtime_overrides(dir, o); });
        config_ = next;
        spdlog::set_level(config_.log_level);
        auto settings = apply_overrides(config_.session_settings(), overrides_);
        try {
            session_->apply_settings(settings);
        } catch (const SessionError& e) {
            // Only a port can fail: keep the one in use and apply the rest.
            spdlog::error("reload: {}; still listening on port {}", e.what(),
                          session_->settings().listen_port);
            settings.listen_port = session_->settings().listen_port;
            session_->apply_settings(settings);
        }
        listen_port_ = session_->settings().listen_port;
        spdlog::info("configuration reloaded ({} change{})", changes, changes == 1 ? "" : "s");
        notify_ready();
    }

    void report_status() {
        if (shutting_down_) return;
        notify_status(status_summary(session_->stats()));
        trimmer_.check_free_heap();
        if (++status_reports_ % kTotalsEveryStatus == 0) save_totals();
        status_timer_.expires_after(kStatusInterval);
        status_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) report_status();
        });
    }

    void begin_shutdown(const std::string& why) {
        if (shutting_down_) return;
        shutting_down_ = true;
        spdlog::info("shutting down ({})", why);
        if (watch_dir_) watch_dir_->stop();
        notify_stopping();
        notify_status("stopping");
        status_timer_.cancel();
        trimmer_.stop();
        deadline_.expires_after(kShutdownDeadline);
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            spdlog::error("shutdown did not finish within {} s; exiting anyway",
                          kShutdownDeadline.count());
            exit_code_ = 1;
            io_.stop();
        });
        // Trackers hear `stopped` first, then the final resume data is taken (the engine
        // flushes data before reporting it); the RPC server goes last so the reply to
        // daemon.shutdown gets out. New torrents are refused by the session meanwhile.
        session_->shutdown([this] {
            spdlog::debug("shutdown: torrents stopped; taking the final resume data");
            saver_->save_all([this] {
                spdlog::debug("shutdown: resume data queued for writing");
                saver_->stop();
                save_totals();
                // Wait for the disk off the network thread, so the deadline can still fire.
                worker_.post([this] { asio::post(io_, [this] { finish_shutdown(); }); });
            });
        });
    }

    void finish_shutdown() {
        spdlog::info("state saved to {} ({} resume files written, {} unchanged)",
                     config_.state_dir.string(), store_.resume_files_written(),
                     store_.resume_writes_skipped());
        if (server_) server_->stop();
        if (web_) web_->stop();
        deadline_.cancel();
        signals_.cancel();
        io_.stop();
    }

    DaemonOptions options_;
    DaemonConfig config_;
    StateDirLock lock_;
    JobStore store_;
    nlohmann::json overrides_ = nlohmann::json::object();
    asio::io_context io_;
    // After store_: its tasks use the store. The state files saved by a batch of tasks become
    // durable together once the queue runs empty (see AtomicBatch).
    SerialWorker worker_{[this] { store_.commit(); }};
    std::unique_ptr<Session> session_;
    std::unique_ptr<ResumeSaver> saver_;
    EventSubscription events_;  // the session's events to on_event()
    rpc::Dispatcher dispatcher_;
    std::unique_ptr<rpc::transmission::TransmissionRpc> transmission_;  // outlives server_
    std::unique_ptr<WebServices> web_;                                  // outlives server_
    std::unique_ptr<rpc::RpcServer> server_;
    std::unique_ptr<WatchDir> watch_dir_;
    std::optional<CompletionHook> hook_;
    asio::signal_set signals_;
    asio::steady_timer status_timer_;
    asio::steady_timer deadline_;
    // Restored, added and removed jobs: the heap is trimmed once such a batch is over.
    HeapTrimmer trimmer_{io_, {}};
    bool shutting_down_ = false;
    bool restored_ = false;  // the saved jobs are back: later adds count as added
    std::optional<SessionCounter> counter_;
    int status_reports_ = 0;
    int exit_code_ = 0;
    std::uint16_t listen_port_ = 0;  // the session's port as last seen, to spot a change
};

}  // namespace

int run_daemon(const DaemonOptions& options) {
    DaemonConfig config;
    try {
        config = load_config(options);
    } catch (const ConfigError& e) {
        spdlog::error("{}", e.what());
        return 2;
    }
    spdlog::set_level(config.log_level);
    try {
        Daemon daemon(options, std::move(config));
        return daemon.run();
    } catch (const StateDirError& e) {
        spdlog::error("{}", e.what());
        return 1;
    } catch (const std::exception& e) {
        spdlog::error("btd cannot run: {}", e.what());
        return 1;
    }
}

}  // namespace btd::daemon
