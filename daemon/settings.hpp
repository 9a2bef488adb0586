#pragma once
// What the settings table (daemon/settings_table.hpp) is made of and what is generated from it:
// a typed Row per setting, the value syntaxes with their ranges (written once, here), and the
// type-erased Setting that config parsing, btd's command line, RPC session.get/session.set,
// settings.json and SIGHUP reload walk over. Pure functions, no I/O; any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/session/types.hpp"
#include "daemon/config.hpp"

namespace btd::daemon {

// Who may set a setting (Row::from): bit flags, so an unscoped enum; k-named because bare
// `config` and `rpc` would shadow names used throughout btd::daemon.
// NOLINTNEXTLINE(readability-identifier-naming)
enum SettingSource : unsigned { kConfig = 1, kFlag = 2, kRpc = 4 };

// A value syntax: text (config file, flags) and JSON (RPC, settings.json), one range for both.
template <typename T>
struct Syntax {
    std::function<T(std::string_view)> parse;  // throws ConfigError("'x' is not ...")
    std::function<T(const std::vector<std::string>&)> parse_items;  // lists only (TOML arrays)
    std::function<std::string(const T&)> format;                    // parses back to the same
    std::function<nlohmann::json(const T&)> to_json;
    std::function<T(const nlohmann::json&)> from_json;  // throws BadSettingValue("must be ...")
    std::string range;                                  // for --help, e.g. "0..65535"
};

// A JSON value outside a setting's syntax; the message continues its name ("must be ...").
class BadSettingValue : public std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Value syntaxes (settings.cpp).
template <typename Int>
Syntax<Int> whole(Int min, Int max, std::string what);  // "a port": an integer in [min, max]
Syntax<std::int64_t> rate();                            // bytes/s, core/util/units.hpp syntax
Syntax<double> ratio();                                 // a finite number >= 0
Syntax<std::filesystem::path> path();                   // a non-empty path
Syntax<std::filesystem::path> optional_path();          // a path, or "" = off
Syntax<HostPort> host_port();
Syntax<spdlog::level::level_enum> level_name();
Syntax<bool> boolean();
Syntax<std::string> text();                // any string, empty included
Syntax<std::string> bind_target();         // "" (none), an IP address or an interface that exists
Syntax<std::vector<std::string>> names();  // comma-separated or array
Syntax<std::vector<std::string>> host_ports();               // HOST:PORT items, as names()
Syntax<std::vector<std::filesystem::path>> absolute_dirs();  // comma-separated or array

// One row of the table, typed. Built with chained calls (see settings_table.hpp).
template <typename T>
struct Row {
    unsigned sources = 0;
    bool reloadable = false;
    bool hidden = false;  // a password: never logged
    std::string_view flag_name, value_name, help_text;
    Syntax<T> value_syntax;
    std::function<T(const SessionSettings&)> engine_get;  // empty: the daemon keeps it
    std::function<void(SessionSettings&, const T&)> engine_set;

    Row& from(unsigned who) {
        sources = who;
        return *this;
    }
    Row& reload() {
        reloadable = true;
        return *this;
    }
    Row& secret() {
        hidden = true;
        return *this;
    }
    Row& flag(std::string_view name, std::string_view value) {
        flag_name = name;
        value_name = value;
        return *this;
    }
    Row& syntax(Syntax<T> s) {
        value_syntax = std::move(s);
        return *this;
    }
    Row& help(std::string_view text) {
        help_text = text;
        return *this;
    }
    // The engine field the setting writes: .engine(&SessionSettings::listen_port)
    template <typename F>
    Row& engine(F SessionSettings::*field) {
        engine_get = [field](const SessionSettings& s) { return static_cast<T>(s.*field); };
        engine_set = [field](SessionSettings& s, const T& v) { s.*field = static_cast<F>(v); };
        return *this;
    }
    // A field of a struct inside SessionSettings: .engine(&SessionSettings::tuning, &Tuning::x)
    template <typename P, typename F>
    Row& engine(P SessionSettings::*part, F P::*field) {
        engine_get = [=](const SessionSettings& s) { return static_cast<T>(s.*part.*field); };
        engine_set = [=](SessionSettings& s, const T& v) { s.*part.*field = static_cast<F>(v); };
        return *this;
    }
    // A std::chrono::seconds field inside SessionSettings, as a whole number of seconds:
    // .engine_seconds(&SessionSettings::tuning, &TorrentTuning::request_timeout)
    template <typename P>
    Row& engine_seconds(P SessionSettings::*part, std::chrono::seconds P::*field) {
        engine_get = [=](const SessionSettings& s) {
            return static_cast<T>((s.*part.*field).count());
        };
        engine_set = [=](SessionSettings& s, const T& v) {
            s.*part.*field = std::chrono::seconds(v);
        };
        return *this;
    }
    // An engine field in other units: .engine_scaled(&SessionSettings::memory_budget, 1 << 20)
    template <typename F>
    Row& engine_scaled(F SessionSettings::*field, std::type_identity_t<F> scale) {
        engine_get = [=](const SessionSettings& s) { return static_cast<T>(s.*field / scale); };
        engine_set = [=](SessionSettings& s, const T& v) { s.*field = static_cast<F>(v) * scale; };
        return *this;
    }
};

// One row, type-erased: what the config file, the command line, RPC, settings.json and reload
// need to know and do, without knowing the type.
struct Setting {
    std::string name;
    unsigned sources = 0;
    bool reloadable = false;
    bool hidden = false;  // a password: logs show "(hidden)" instead of the value
    std::string flag, value_name, help, range;
    std::string default_text;  // empty when the default is computed (download_dir, state_dir)

    // Config layers. The setters throw ConfigError naming the value (not yet the key).
    std::function<void(ConfigValues&, std::string_view)> set_text;
    std::function<void(ConfigValues&, const std::vector<std::string>&)> set_items;  // or empty
    std::function<void(ConfigValues&, const ConfigValues&)> take;     // if set in the second
    std::function<void(DaemonConfig&, const ConfigValues&)> resolve;  // if set
    std::function<std::string(const DaemonConfig&)> describe;
    std::function<void(DaemonConfig&, const DaemonConfig&)> keep;  // copy from the second

    // Engine side; all empty when the daemon keeps the setting to itself.
    std::function<void(SessionSettings&, const DaemonConfig&)> to_engine;
    std::function<nlohmann::json(const SessionSettings&)> get_json;
    // Throws BadSettingValue("NAME must be ...").
    std::function<void(SessionSettings&, const nlohmann::json&)> set_json;

    bool from(SettingSource who) const { return (sources & who) != 0; }
    bool in_engine() const { return static_cast<bool>(get_json); }
    bool is_list() const { return static_cast<bool>(set_items); }
};

// Every row, in table order (the documentation order of the config keys).
const std::vector<Setting>& settings();
// nullptr for a name no row has.
const Setting* find_setting(std::string_view name);

// RPC and settings.json: the settings with kRpc, by name, read from the engine's settings.
nlohmann::json rpc_settings(const SessionSettings& s);
// session.set: `params` (an object) applied over `current`; every param is checked before
// anything changes. Throws BadSettingValue naming the first unknown or bad param. A null value
// counts as absent.
SessionSettings apply_rpc_settings(const nlohmann::json& params, SessionSettings current);

}  // namespace btd::daemon
