#include "daemon/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/util/ascii.hpp"
#include "core/util/units.hpp"
#include "daemon/settings.hpp"

namespace btd::daemon {

namespace {

std::uint16_t parse_port(std::string_view text) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > 65535)
        throw ConfigError("'" + std::string(text) + "' is not a port (0..65535)");
    return static_cast<std::uint16_t>(v);
}

}  // namespace

// -- generated from the settings table (daemon/settings_table.hpp) -------------------------------

void ConfigValues::override_with(const ConfigValues& higher) {
    for (const auto& setting : settings()) setting.take(*this, higher);
}

const std::vector<std::string>& config_keys() {
    static const std::vector<std::string> kKeys = [] {
        std::vector<std::string> out;
        for (const auto& setting : settings())
            if (setting.from(kConfig)) out.push_back(setting.name);
        return out;
    }();
    return kKeys;
}

namespace {

const Setting& config_setting(std::string_view key) {
    const auto* setting = find_setting(key);
    if (!setting || !setting->from(kConfig))
        throw ConfigError("unknown key '" + std::string(key) + "'");
    return *setting;
}

}  // namespace

void set_config_value(ConfigValues& v, std::string_view key, std::string_view value) {
    const auto& setting = config_setting(key);
    try {
        setting.set_text(v, value);
    } catch (const ConfigError& e) {
        throw ConfigError(std::string(key) + ": " + e.what());
    }
}

void set_config_items(ConfigValues& v, std::string_view key,
                      const std::vector<std::string>& items) {
    const auto& setting = config_setting(key);
    if (!setting.is_list()) throw ConfigError(std::string(key) + ": takes one value, not a list");
    try {
        setting.set_items(v, items);
    } catch (const ConfigError& e) {
        throw ConfigError(std::string(key) + ": " + e.what());
    }
}

SessionSettings DaemonConfig::session_settings() const {
    SessionSettings s;
    for (const auto& setting : settings())
        if (setting.in_engine()) setting.to_engine(s, *this);
    s.dht_table_file = state_dir / "dht.dat";
    s.move_journal_dir = state_dir / "moves";
    return s;
}

std::map<std::string, std::string> DaemonConfig::describe() const {
    std::map<std::string, std::string> out;
    for (const auto& setting : settings())
        if (setting.from(kConfig)) out[setting.name] = setting.describe(*this);
    return out;
}

// -- value syntaxes
// --------------------------------------------------------------------------------

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
        hp.port = parse_port(port);
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
    static const std::vector<std::pair<std::string, spdlog::level::level_enum>> kLevels = {
        {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
        {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
        {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
    auto t = ascii_lower(text);
    for (auto& [name, level] : kLevels)
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

namespace {

// Basic auth sends "user:password": a user name cannot hold a colon, and half a pair is a typo.
void check_rpc_credentials(const DaemonConfig& c) {
    if (c.rpc_username.empty() != c.rpc_password.empty())
        throw ConfigError(
            "rpc_username and rpc_password go together: set both (Transmission RPC Basic auth) "
            "or neither");
    if (c.rpc_username.find(':') != std::string::npos)
        throw ConfigError("rpc_username: a user name cannot contain ':' (HTTP Basic auth)");
}

}  // namespace

DaemonConfig resolve_config(const ConfigValues& v, const Getenv& getenv) {
    DaemonConfig c;
    for (const auto& setting : settings()) setting.resolve(c, v);
    // The two defaults that depend on the environment.
    c.state_dir = v.state_dir ? *v.state_dir : default_state_dir(getenv);
    c.state_dir = std::filesystem::absolute(c.state_dir).lexically_normal();
    c.download_dir = v.download_dir ? *v.download_dir : default_download_dir(c.state_dir, getenv);
    c.download_dir = std::filesystem::absolute(c.download_dir).lexically_normal();
    if (!c.watch_dir.empty())
        c.watch_dir = std::filesystem::absolute(c.watch_dir).lexically_normal();
    check_rpc_credentials(c);
    return c;
}

}  // namespace btd::daemon
