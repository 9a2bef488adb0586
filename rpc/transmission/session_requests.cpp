// session-get, session-set, session-stats, free-space, port-test.
#include <chrono>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "rpc/methods/download_dir_policy.hpp"
#include "rpc/methods/error_mapping.hpp"
#include "rpc/methods/free_space.hpp"
#include "rpc/transmission/arguments.hpp"
#include "rpc/transmission/transmission_rpc.hpp"

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;
using Context = TransmissionRpc::Context;

json units() {
    return {{"speed-units", {"kB/s", "MB/s", "GB/s", "TB/s"}}, {"speed-bytes", kSpeedUnit},
            {"size-units", {"kB", "MB", "GB", "TB"}},          {"size-bytes", 1000},
            {"memory-units", {"KiB", "MiB", "GiB", "TiB"}},    {"memory-bytes", 1024}};
}

json session_arguments(const Context& c) {
    const auto& s = c.session.settings();
    return {{"version", version_string()},
            {"rpc-version", kRpcVersion},
            {"rpc-version-minimum", kRpcVersionMinimum},
            {"rpc-version-semver", kRpcVersionSemver},
            {"session-id", c.options.session_id},
            {"config-dir", c.options.config_dir},
            {"download-dir", s.default_download_dir.string()},
            {"speed-limit-down", s.download_rate_limit / kSpeedUnit},
            {"speed-limit-down-enabled", s.download_rate_limit > 0},
            {"speed-limit-up", s.upload_rate_limit / kSpeedUnit},
            {"speed-limit-up-enabled", s.upload_rate_limit > 0},
            {"seedRatioLimit", s.ratio_limit},
            {"seedRatioLimited", s.ratio_limit > 0},
            {"idle-seeding-limit", s.seed_idle_limit / 60},
            {"idle-seeding-limit-enabled", s.seed_idle_limit > 0},
            {"peer-port", c.session.stats().listen_port},
            {"peer-limit-global", s.max_connections},
            {"peer-limit-per-torrent", s.max_peers_per_torrent},
            // What btd does not do, stated as Transmission's switches.
            {"dht-enabled", s.dht},
            {"pex-enabled", true},
            {"lpd-enabled", s.lsd},
            {"utp-enabled", false},
            {"port-forwarding-enabled", false},
            {"peer-port-random-on-start", false},
            {"blocklist-enabled", false},
            {"alt-speed-enabled", false},
            // The download queue (max_active_downloads/seeds, -1 = unlimited).
            {"download-queue-enabled", s.max_active_downloads >= 0},
            {"download-queue-size", std::max(s.max_active_downloads, 0)},
            {"seed-queue-enabled", s.max_active_seeds >= 0},
            {"seed-queue-size", std::max(s.max_active_seeds, 0)},
            {"queue-stalled-enabled", s.queue_stalled_after > 0},
            {"queue-stalled-minutes", s.queue_stalled_after / 60},
            {"incomplete-dir-enabled", false},
            {"rename-partial-files", false},
            {"start-added-torrents", true},
            {"units", units()}};
}

json session_get(const Context& c, const json& args) {
    reject_unsupported(args, "session-get", {"fields"});
    json all = session_arguments(c);
    auto fields = args.find("fields");
    if (fields == args.end() || !fields->is_array()) return all;
    json out = json::object();
    for (const auto& f : *fields)
        if (f.is_string() && all.contains(f.get<std::string>()))
            out[f.get<std::string>()] = all[f.get<std::string>()];
    return out;
}

// Transmission keeps a limit and its on/off switch apart; btd has one value (0 = off). A value
// alone turns the limit on; switching on needs a value unless one is already set.
template <typename T>
T merge_limit(std::optional<bool> enabled, std::optional<T> value, T current, T scale,
              const char* name) {
    bool on = enabled.value_or(value.has_value() || current > 0);
    if (!on) return T(0);
    if (value) return *value * scale;
    if (current > 0) return current;
    throw MethodError(std::string("session-set: give ") + name + " along with " + name +
                      "-enabled: btd keeps no limit while it is off");
}

// A queue's size and switch onto btd's one count (-1 = no queue): a size alone turns the queue
// on; switching on needs a size unless the queue has one.
int merge_queue(const json& args, const char* size_key, const char* enabled_key, int current) {
    auto enabled = get_bool(args, enabled_key);
    auto size = get_int(args, size_key, 0, std::numeric_limits<int>::max());
    if (!enabled.value_or(size.has_value() || current >= 0)) return -1;
    if (size) return static_cast<int>(*size);
    if (current >= 0) return current;
    throw MethodError(std::string("session-set: give ") + size_key + " along with " + enabled_key +
                      ": btd keeps no queue size while the queue is off");
}

// btd's setting for each Transmission key session-set takes; the ranges are the settings
// table's (SettingsSchema), not written again here.
constexpr std::pair<std::string_view, std::string_view> kSettingOfKey[] = {
    {"speed-limit-down", "download_rate_limit"},
    {"speed-limit-up", "upload_rate_limit"},
    {"seedRatioLimit", "ratio_limit"},
    {"idle-seeding-limit", "seed_idle_limit"},
    {"peer-port", "listen_port"},
    {"peer-limit-global", "max_connections"},
    {"peer-limit-per-torrent", "max_peers_per_torrent"},
    {"download-dir", "download_dir"},
    {"download-queue-size", "max_active_downloads"},
    {"seed-queue-size", "max_active_seeds"},
    {"queue-stalled-minutes", "queue_stalled_after"},
};

// The request in btd's names and units: each limit merged with its switch, sizes and ports as
// given. Only the syntax is checked here (a number, not negative, no overflow in the unit).
json btd_params(const json& args, const SessionSettings& s,
                const std::vector<std::filesystem::path>& allowed_dirs) {
    constexpr std::int64_t kMaxKb = std::numeric_limits<std::int64_t>::max() / kSpeedUnit;
    constexpr std::int64_t kMaxMinutes = std::numeric_limits<std::int64_t>::max() / 60;
    constexpr std::int64_t kMaxWhole = std::numeric_limits<std::int64_t>::max();
    json p = json::object();
    p["download_rate_limit"] = merge_limit<std::int64_t>(
        get_bool(args, "speed-limit-down-enabled"), get_int(args, "speed-limit-down", 0, kMaxKb),
        s.download_rate_limit, kSpeedUnit, "speed-limit-down");
    p["upload_rate_limit"] = merge_limit<std::int64_t>(
        get_bool(args, "speed-limit-up-enabled"), get_int(args, "speed-limit-up", 0, kMaxKb),
        s.upload_rate_limit, kSpeedUnit, "speed-limit-up");
    p["ratio_limit"] = merge_limit<double>(get_bool(args, "seedRatioLimited"),
                                           get_number(args, "seedRatioLimit", 0), s.ratio_limit,
                                           1.0, "seedRatioLimit");
    p["seed_idle_limit"] =
        merge_limit<std::int64_t>(get_bool(args, "idle-seeding-limit-enabled"),
                                  get_int(args, "idle-seeding-limit", 0, kMaxMinutes),
                                  s.seed_idle_limit, 60, "idle-seeding-limit");
    if (auto v = get_int(args, "peer-port", 0, kMaxWhole)) p["listen_port"] = *v;
    if (auto v = get_int(args, "peer-limit-global", 0, kMaxWhole)) p["max_connections"] = *v;
    if (auto v = get_int(args, "peer-limit-per-torrent", 0, kMaxWhole))
        p["max_peers_per_torrent"] = *v;
    if (auto v = get_string(args, "download-dir"))
        p["download_dir"] = checked_download_dir(*v, allowed_dirs).string();
    p["max_active_downloads"] =
        merge_queue(args, "download-queue-size", "download-queue-enabled", s.max_active_downloads);
    p["max_active_seeds"] =
        merge_queue(args, "seed-queue-size", "seed-queue-enabled", s.max_active_seeds);
    p["queue_stalled_after"] =
        merge_limit<std::int64_t>(get_bool(args, "queue-stalled-enabled"),
                                  get_int(args, "queue-stalled-minutes", 0, kMaxMinutes),
                                  s.queue_stalled_after, 60, "queue-stalled-minutes");
    return p;
}

// The table's message names btd's setting ("max_connections must be ..."); the caller sent the
// Transmission key, so it is named first.
std::string transmission_message(const std::string& table_message) {
    for (const auto& [key, setting] : kSettingOfKey)
        if (table_message.rfind(std::string(setting) + " ", 0) == 0)
            return "session-set: " + std::string(key) + " (btd's " + table_message + ")";
    return "session-set: " + table_message;
}

SessionSettings settings_from(const json& args, const SessionSettings& current,
                              const TransmissionOptions& options) {
    if (!options.settings.apply) throw MethodError("session-set is not supported here");
    json params = btd_params(args, current, options.allowed_download_dirs);
    try {
        return options.settings.apply(params, current);
    } catch (const std::invalid_argument& e) {
        throw MethodError(transmission_message(e.what()));
    }
}

json session_set(Context& c, const json& args) {
    reject_unsupported(
        args, "session-set",
        {"download-dir", "speed-limit-down", "speed-limit-down-enabled", "speed-limit-up",
         "speed-limit-up-enabled", "seedRatioLimit", "seedRatioLimited", "idle-seeding-limit",
         "idle-seeding-limit-enabled", "peer-port", "peer-limit-global", "peer-limit-per-torrent",
         "download-queue-size", "download-queue-enabled", "seed-queue-size", "seed-queue-enabled",
         "queue-stalled-minutes", "queue-stalled-enabled"});
    SessionSettings next = settings_from(args, c.session.settings(), c.options);
    return translate_errors([&] {
        c.session.apply_settings(next);
        if (c.options.settings_changed) c.options.settings_changed(c.session.settings());
        return json::object();
    });
}

json stats_object(const SessionTotals& t) {
    return {{"uploadedBytes", t.uploaded},
            {"downloadedBytes", t.downloaded},
            {"filesAdded", t.files_added},
            {"sessionCount", t.session_count},
            {"secondsActive", t.seconds_active}};
}

// Without the daemon's totals: what the Session knows (its torrents' all-time bytes).
SessionTotalsPair session_only_totals(const Context& c) {
    auto stats = c.session.stats();
    auto torrents = c.session.list();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - c.started);
    std::int64_t started_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count() -
                                seconds.count();
    SessionTotalsPair t;
    t.current = {stats.uploaded, stats.downloaded, 0, 1, seconds.count()};
    t.cumulative = {stats.uploaded, stats.downloaded, static_cast<std::int64_t>(torrents.size()), 1,
                    seconds.count()};
    for (const auto& s : torrents)
        if (s.added_at >= started_unix) ++t.current.files_added;
    return t;
}

json session_stats(const Context& c) {
    auto stats = c.session.stats();
    auto torrents = c.session.list();
    std::int64_t active = 0;
    for (const auto& t : torrents)
        if (t.state != TorrentState::paused && t.state != TorrentState::error) ++active;
    std::int64_t count = static_cast<std::int64_t>(torrents.size());
    auto totals = c.options.totals ? c.options.totals() : session_only_totals(c);
    return {{"activeTorrentCount", active},
            {"pausedTorrentCount", count - active},
            {"torrentCount", count},
            {"downloadSpeed", stats.download_rate},
            {"uploadSpeed", stats.upload_rate},
            {"current-stats", stats_object(totals.current)},
            {"cumulative-stats", stats_object(totals.cumulative)}};
}

// Measured on the disk pool: a slow or hung mount must not stop the network thread.
void free_space(Context& c, const json& args, TransmissionRpc::Done done) {
    reject_unsupported(args, "free-space", {"path"});
    auto path = get_string(args, "path");
    if (!path) throw MethodError("free-space: give \"path\", the directory to measure");
    measure_free_space(c.session, *path, [path = *path, done = std::move(done)](FreeSpace f) {
        if (!f.error.empty())
            return done("free-space: cannot measure " + path + ": " + f.error, nullptr);
        done("success", {{"path", path}, {"size-bytes", f.available}, {"total_size", f.capacity}});
    });
}

}  // namespace

void register_session_requests(const Registrar& add_async, const SyncRegistrar& add, Context& c) {
    add("session-get", [&c](const json& args) { return session_get(c, args); });
    add("session-set", [&c](const json& args) { return session_set(c, args); });
    add("session-stats", [&c](const json& args) {
        reject_unsupported(args, "session-stats", {});
        return session_stats(c);
    });
    add_async("free-space", [&c](const json& args, TransmissionRpc::Done done) {
        free_space(c, args, std::move(done));
    });
    add("port-test", [&c](const json&) -> json {
        throw MethodError("port-test: btd has no outside service to test peer port " +
                          std::to_string(c.session.stats().listen_port) +
                          " from the internet; check it from another network");
    });
}

}  // namespace btd::rpc::transmission
