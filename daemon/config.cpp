#include "daemon/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/util/ascii.hpp"
#include "core/util/units.hpp"
#include "rpc/safe_file.hpp"
#include "rpc/state_files.hpp"

namespace btd::daemon {

namespace {

std::string_view trim(std::string_view s) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// A whole-string unsigned integer within [min, max].
std::uint64_t parse_uint(std::string_view text, std::uint64_t min, std::uint64_t max,
                         const char* what) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max)
        throw ConfigError("'" + std::string(text) + "' is not " + what + " (" +
                          std::to_string(min) + ".." + std::to_string(max) + ")");
    return v;
}

std::filesystem::path parse_path(std::string_view text) {
    if (text.empty()) throw ConfigError("an empty path is not allowed");
    return std::filesystem::path(std::string(text));
}

// Comma-separated items, each trimmed; empty items are skipped.
std::vector<std::string> parse_list(std::string_view value) {
    std::vector<std::string> items;
    std::string_view rest = value;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = trim(rest.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return items;
}

std::vector<std::filesystem::path> parse_absolute_dirs(std::string_view value) {
    std::vector<std::filesystem::path> dirs;
    for (auto& item : parse_list(value)) {
        std::filesystem::path dir(item);
        if (!dir.is_absolute())
            throw ConfigError("'" + item + "' is not an absolute path (start it with /)");
        dirs.push_back(dir.lexically_normal());
    }
    return dirs;  // empty: anywhere
}

// A quoted value: "..." with \" and \\ escapes, then only blanks or a comment.
std::string unquote(std::string_view text) {
    std::string out;
    std::size_t i = 1;
    for (; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\'))
            ++i;
        out.push_back(text[i]);
    }
    if (i >= text.size()) throw ConfigError("missing closing '\"'");
    auto rest = trim(text.substr(i + 1));
    if (!rest.empty() && rest.front() != '#')
        throw ConfigError("unexpected text after the closing quote: '" + std::string(rest) + "'");
    return out;
}

}  // namespace

std::string config_value_text(std::string_view raw) {
    auto text = trim(raw);
    if (!text.empty() && text.front() == '"') return unquote(text);
    // A '#' at the start or after a blank begins a comment; "a#b" stays a value.
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t'))
            return std::string(trim(text.substr(0, i)));
    return std::string(text);
}

namespace {}  // namespace

void ConfigValues::override_with(const ConfigValues& h) {
    auto take = [](auto& mine, const auto& theirs) {
        if (theirs) mine = theirs;
    };
    take(download_dir, h.download_dir);
    take(state_dir, h.state_dir);
    take(rpc_listen, h.rpc_listen);
    take(listen_port, h.listen_port);
    take(log_level, h.log_level);
    take(download_rate_limit, h.download_rate_limit);
    take(upload_rate_limit, h.upload_rate_limit);
    take(max_peers_per_torrent, h.max_peers_per_torrent);
    take(ratio_limit, h.ratio_limit);
    take(seed_idle_limit, h.seed_idle_limit);
    take(memory_budget_mib, h.memory_budget_mib);
    take(disk_threads, h.disk_threads);
    take(rpc_auth, h.rpc_auth);
    take(metrics_public, h.metrics_public);
    take(rpc_allowed_hosts, h.rpc_allowed_hosts);
    take(allowed_download_dirs, h.allowed_download_dirs);
}

const std::vector<std::string>& config_keys() {
    static const std::vector<std::string> keys = {"download_dir",
                                                  "state_dir",
                                                  "rpc_listen",
                                                  "listen_port",
                                                  "log_level",
                                                  "download_rate_limit",
                                                  "upload_rate_limit",
                                                  "max_peers_per_torrent",
                                                  "ratio_limit",
                                                  "seed_idle_limit",
                                                  "memory_budget_mib",
                                                  "disk_threads",
                                                  "rpc_auth",
                                                  "rpc_allowed_hosts",
                                                  "allowed_download_dirs",
                                                  "metrics_public"};
    return keys;
}

HostPort parse_host_port(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return ConfigError("'" + std::string(text) + "' is not HOST:PORT (" + why + ")");
    };
    HostPort hp;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) throw bad("missing ']'");
        hp.host = std::string(text.substr(1, close - 1));
        if (close + 1 >= text.size() || text[close + 1] != ':') throw bad("missing :PORT");
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) throw bad("missing :PORT");
        hp.host = std::string(text.substr(0, colon));
        if (hp.host.find(':') != std::string::npos) throw bad("put an IPv6 address in brackets");
        port = text.substr(colon + 1);
    }
    if (hp.host.empty()) throw bad("empty host");
    try {
        hp.port = static_cast<std::uint16_t>(parse_uint(port, 0, 65535, "a port"));
    } catch (const ConfigError& e) {
        throw bad(e.what());
    }
    return hp;
}

std::int64_t parse_rate(std::string_view text) {
    // One rate syntax for btd's flags, its config file and btctl (core/util/units.hpp).
    if (auto rate = btd::parse_rate(text)) return *rate;
    throw ConfigError("'" + std::string(text) + "' is not " + std::string(kRateSyntax));
}

spdlog::level::level_enum parse_log_level(std::string_view text) {
    static const std::vector<std::pair<std::string, spdlog::level::level_enum>> levels = {
        {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
        {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
        {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
    auto t = ascii_lower(text);
    for (auto& [name, level] : levels)
        if (name == t) return level;
    throw ConfigError("'" + std::string(text) +
                      "' is not a log level (trace, debug, info, warn, error, critical, off)");
}

bool parse_bool(std::string_view text) {
    auto t = ascii_lower(text);
    if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
    if (t == "false" || t == "no" || t == "off" || t == "0") return false;
    throw ConfigError("'" + std::string(text) + "' is not a boolean (true or false)");
}

double parse_ratio(std::string_view text) {
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    // from_chars also takes "inf" and "nan", which are no ratio.
    if (text.empty() || text.front() == '-' || ec != std::errc() ||
        end != text.data() + text.size() || !std::isfinite(v))
        throw ConfigError("'" + std::string(text) + "' is not a ratio (a number >= 0, e.g. 2.0)");
    return v;
}

void set_config_value(ConfigValues& v, std::string_view key, std::string_view value) {
    const auto& keys = config_keys();
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
        throw ConfigError("unknown key '" + std::string(key) + "'");
    try {
        if (key == "download_dir")
            v.download_dir = parse_path(value);
        else if (key == "state_dir")
            v.state_dir = parse_path(value);
        else if (key == "rpc_listen")
            v.rpc_listen = parse_host_port(value);
        else if (key == "listen_port")
            v.listen_port = static_cast<std::uint16_t>(parse_uint(value, 0, 65535, "a port"));
        else if (key == "log_level")
            v.log_level = parse_log_level(value);
        else if (key == "download_rate_limit")
            v.download_rate_limit = parse_rate(value);
        else if (key == "upload_rate_limit")
            v.upload_rate_limit = parse_rate(value);
        else if (key == "max_peers_per_torrent")
            v.max_peers_per_torrent = static_cast<int>(parse_uint(value, 1, 10000, "a peer count"));
        else if (key == "ratio_limit")
            v.ratio_limit = parse_ratio(value);
        else if (key == "seed_idle_limit")
            v.seed_idle_limit = static_cast<std::int64_t>(
                parse_uint(value, 0, kMaxSeedIdleLimit, "a number of seconds"));
        else if (key == "memory_budget_mib")
            v.memory_budget_mib =
                static_cast<std::int64_t>(parse_uint(value, 16, 1 << 20, "a size in MiB"));
        else if (key == "disk_threads")
            v.disk_threads = static_cast<unsigned>(parse_uint(value, 0, 256, "a thread count"));
        else if (key == "rpc_auth")
            v.rpc_auth = parse_bool(value);
        else if (key == "metrics_public")
            v.metrics_public = parse_bool(value);
        else if (key == "rpc_allowed_hosts")
            v.rpc_allowed_hosts = parse_list(value);
        else if (key == "allowed_download_dirs")
            v.allowed_download_dirs = parse_absolute_dirs(value);
    } catch (const ConfigError& e) {
        throw ConfigError(std::string(key) + ": " + e.what());
    }
}

ConfigValues parse_config_text(std::string_view text, const std::string& source) {
    ConfigValues values;
    int line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        auto line = trim(text.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
        ++line_no;
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        if (line.empty() || line.front() == '#') continue;
        auto where = source + ":" + std::to_string(line_no) + ": ";
        auto eq = line.find('=');
        if (eq == std::string_view::npos)
            throw ConfigError(where + "expected 'key = value', got '" + std::string(line) + "'");
        try {
            auto key = trim(line.substr(0, eq));
            set_config_value(values, key, config_value_text(line.substr(eq + 1)));
            // A relative path would depend on the directory btd happens to start in.
            if (key == "download_dir" && values.download_dir->is_relative())
                throw ConfigError("download_dir: '" + values.download_dir->string() +
                                  "' is not an absolute path (start it with /)");
        } catch (const ConfigError& e) {
            throw ConfigError(where + e.what());
        }
    }
    return values;
}

ConfigValues load_config_file(const std::filesystem::path& file) {
    constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
    std::string text;
    try {
        // Bounded, and a FIFO or device given as --config cannot hang the start.
        text = rpc::read_regular_file(file, kMaxConfigBytes, /*follow_symlinks=*/true);
    } catch (const rpc::StateFileError& e) {
        throw ConfigError(std::string("cannot read config file ") + e.what());
    }
    return parse_config_text(text, file.string());
}

std::optional<std::string> process_getenv(const char* name) {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
}

std::filesystem::path default_state_dir(const Getenv& getenv) {
    // systemd sets STATE_DIRECTORY to a colon-separated list of absolute paths.
    if (auto dirs = getenv("STATE_DIRECTORY"); dirs && !dirs->empty()) {
        auto first = dirs->substr(0, dirs->find(':'));
        if (!first.empty()) return first;
    }
    // XDG: a relative value is invalid and must be ignored.
    if (auto xdg = getenv("XDG_STATE_HOME"); xdg && !xdg->empty() && xdg->front() == '/')
        return std::filesystem::path(*xdg) / "btd";
    if (auto home = getenv("HOME"); home && !home->empty() && home->front() == '/')
        return std::filesystem::path(*home) / ".local" / "state" / "btd";
    throw ConfigError(
        "cannot choose a state directory: none of STATE_DIRECTORY, XDG_STATE_HOME or HOME is "
        "set; use --state-dir DIR or state_dir in the config file");
}

std::filesystem::path default_download_dir(const std::filesystem::path& state_dir,
                                           const Getenv& getenv) {
    auto systemd = getenv("STATE_DIRECTORY");
    auto home = getenv("HOME");
    if ((systemd && !systemd->empty()) || !home || home->empty() || *home == "/" ||
        home->front() != '/')
        return state_dir / "downloads";
    return std::filesystem::path(*home) / "Downloads";
}

DaemonConfig resolve_config(const ConfigValues& v, const Getenv& getenv) {
    DaemonConfig c;
    c.state_dir = v.state_dir ? *v.state_dir : default_state_dir(getenv);
    c.state_dir = std::filesystem::absolute(c.state_dir).lexically_normal();
    c.download_dir = v.download_dir ? *v.download_dir : default_download_dir(c.state_dir, getenv);
    c.download_dir = std::filesystem::absolute(c.download_dir).lexically_normal();
    c.rpc_listen =
        v.rpc_listen.value_or(HostPort{std::string(rpc::kDefaultRpcAddress), rpc::kDefaultRpcPort});
    c.listen_port = v.listen_port.value_or(c.listen_port);
    c.log_level = v.log_level.value_or(c.log_level);
    c.download_rate_limit = v.download_rate_limit.value_or(c.download_rate_limit);
    c.upload_rate_limit = v.upload_rate_limit.value_or(c.upload_rate_limit);
    c.max_peers_per_torrent = v.max_peers_per_torrent.value_or(c.max_peers_per_torrent);
    c.ratio_limit = v.ratio_limit.value_or(c.ratio_limit);
    c.seed_idle_limit = v.seed_idle_limit.value_or(c.seed_idle_limit);
    c.memory_budget_mib = v.memory_budget_mib.value_or(c.memory_budget_mib);
    c.disk_threads = v.disk_threads.value_or(c.disk_threads);
    c.rpc_auth = v.rpc_auth.value_or(c.rpc_auth);
    c.metrics_public = v.metrics_public.value_or(c.metrics_public);
    c.rpc_allowed_hosts = v.rpc_allowed_hosts.value_or(c.rpc_allowed_hosts);
    c.allowed_download_dirs = v.allowed_download_dirs.value_or(c.allowed_download_dirs);
    return c;
}

SessionSettings DaemonConfig::session_settings() const {
    SessionSettings s;
    s.listen_port = listen_port;
    s.default_download_dir = download_dir;
    s.disk_threads = disk_threads;
    s.memory_budget = memory_budget_mib << 20;
    s.max_peers_per_torrent = max_peers_per_torrent;
    s.download_rate_limit = download_rate_limit;
    s.upload_rate_limit = upload_rate_limit;
    s.ratio_limit = ratio_limit;
    s.seed_idle_limit = seed_idle_limit;
    return s;
}

std::map<std::string, std::string> DaemonConfig::describe() const {
    std::string hosts;
    for (auto& h : rpc_allowed_hosts) hosts += (hosts.empty() ? "" : ",") + h;
    std::string allowed_dirs;
    for (auto& d : allowed_download_dirs) {
        // Not "," + d.string(): GCC 12 at -O3 warns falsely (-Wrestrict) on it.
        if (!allowed_dirs.empty()) allowed_dirs += ',';
        allowed_dirs += d.string();
    }
    auto host = rpc_listen.host.find(':') != std::string::npos ? "[" + rpc_listen.host + "]"
                                                               : rpc_listen.host;
    auto level = spdlog::level::to_string_view(log_level);
    char ratio[32];  // shortest form that parses back to the same double
    auto ratio_end = std::to_chars(ratio, ratio + sizeof ratio, ratio_limit).ptr;
    return {{"state_dir", state_dir.string()},
            {"download_dir", download_dir.string()},
            {"rpc_listen", host + ":" + std::to_string(rpc_listen.port)},
            {"listen_port", std::to_string(listen_port)},
            {"log_level", std::string(level.data(), level.size())},
            {"download_rate_limit", std::to_string(download_rate_limit)},
            {"upload_rate_limit", std::to_string(upload_rate_limit)},
            {"max_peers_per_torrent", std::to_string(max_peers_per_torrent)},
            {"ratio_limit", std::string(ratio, ratio_end)},
            {"seed_idle_limit", std::to_string(seed_idle_limit)},
            {"memory_budget_mib", std::to_string(memory_budget_mib)},
            {"disk_threads", std::to_string(disk_threads)},
            {"rpc_auth", rpc_auth ? "true" : "false"},
            {"metrics_public", metrics_public ? "true" : "false"},
            {"rpc_allowed_hosts", hosts},
            {"allowed_download_dirs", allowed_dirs}};
}

}  // namespace btd::daemon
