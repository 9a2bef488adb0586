#pragma once
// btd's configuration: the config file (TOML), command-line overrides, and the resolved settings
// the daemon runs with. Which settings exist is the settings table (daemon/settings_table.hpp).
// The config file belongs to the user; btd only reads it.
//
// Format (see systemd/btd.conf.sample): TOML, one `key = value` per setting at the top level.
// Unknown keys and bad values are errors naming the line.
#include <spdlog/common.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/session/types.hpp"
#include "daemon/settings_table.hpp"
#include "rpc/transport/state_files.hpp"

namespace btd::daemon {

// Upper bound of seed_idle_limit (ten years, in seconds): keeps it far from overflowing the
// engine's nanosecond clock arithmetic.
inline constexpr std::int64_t kMaxSeedIdleLimit = 10LL * 365 * 24 * 3600;

class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct HostPort {
    std::string host;  // without brackets for IPv6 literals
    std::uint16_t port = 0;
    bool operator==(const HostPort&) const = default;
};

inline const HostPort kDefaultRpcListen{std::string(rpc::kDefaultRpcAddress), rpc::kDefaultRpcPort};
// The public routers most clients start their DHT from (libtorrent's and Transmission's lists).
inline const std::vector<std::string> kDefaultDhtBootstrapNodes{
    "router.bittorrent.com:6881", "router.utorrent.com:6881", "dht.transmissionbt.com:6881",
    "dht.libtorrent.org:25401"};

// Every setting of the table, each optional so that layers (file, command line) can be merged.
struct ConfigValues {
#define BTD_OPTIONAL_FIELD(type, name, ...) std::optional<type> name;
    BTD_SETTINGS(BTD_OPTIONAL_FIELD)
#undef BTD_OPTIONAL_FIELD

    // Values set in `higher` replace ours.
    void override_with(const ConfigValues& higher);
};

// The keys the config file accepts, in documentation order (the table's rows).
const std::vector<std::string>& config_keys();

// Sets one key from its text form; throws ConfigError("...") naming the key and what is wrong.
void set_config_value(ConfigValues& values, std::string_view key, std::string_view value);
// Sets a list key (rpc_allowed_hosts, allowed_download_dirs) from a TOML array's items.
void set_config_items(ConfigValues& values, std::string_view key,
                      const std::vector<std::string>& items);

// The value part of a legacy `key = value` line: trimmed; a '#' at its start or after a blank
// begins a comment. A value in double quotes is taken literally up to the closing quote
// (backslash escapes a quote or a backslash), so it may hold " #"; only a comment may follow it.
// Throws ConfigError for a missing closing quote or text after it.
std::string config_value_text(std::string_view raw);

// What parsing a config file found besides its values.
struct ConfigFileText {
    ConfigValues values;
    // Set when some line is in the old unquoted form (not TOML): one line for the log saying
    // how to write it as TOML. Such lines are read as before.
    std::optional<std::string> legacy_warning;
};

// Parses config file text (TOML; lines in the old `key = value` form are still read, see
// daemon/config_file.cpp); `source` (usually the file name) prefixes error messages:
// "btd.conf:7: unknown key 'foo'".
ConfigFileText parse_config_file_text(std::string_view text, const std::string& source);
ConfigValues parse_config_text(std::string_view text, const std::string& source);
// Reads and parses the file; logs the legacy warning, if any.
ConfigValues load_config_file(const std::filesystem::path& file);

// Parsers for the value syntaxes (exposed for the command line and tests).
HostPort parse_host_port(std::string_view text);  // "127.0.0.1:9092", "[::1]:0"
std::int64_t parse_rate(std::string_view text);   // bytes/s; syntax of core/util/units.hpp
spdlog::level::level_enum parse_log_level(std::string_view text);
bool parse_bool(std::string_view text);     // true/false, yes/no, on/off, 1/0
double parse_ratio(std::string_view text);  // a finite decimal number >= 0, e.g. "2" or "1.5"

// The configuration the daemon runs with: every value decided.
struct DaemonConfig {
#define BTD_FIELD(type, name, default_value, ...) type name = default_value;
    BTD_SETTINGS(BTD_FIELD)
#undef BTD_FIELD

    // The engine's settings: every row's engine field, over the engine's own defaults.
    SessionSettings session_settings() const;
    // key -> printable value of every config key, for logging the configuration and what a
    // reload changed. Each value parses back to the same value.
    std::map<std::string, std::string> describe() const;
};

// Reads an environment variable; returns nullopt when unset. Injected so tests control it.
using Getenv = std::function<std::optional<std::string>(const char*)>;
std::optional<std::string> process_getenv(const char* name);

// Fills every unset value with its default. The state dir is the first of: $STATE_DIRECTORY
// (systemd's StateDirectory=; first entry), $XDG_STATE_HOME/btd, $HOME/.local/state/btd.
// The download dir defaults to <state>/downloads under systemd or without a home directory,
// else $HOME/Downloads. Throws ConfigError when no state dir can be chosen.
DaemonConfig resolve_config(const ConfigValues& values, const Getenv& getenv);

std::filesystem::path default_state_dir(const Getenv& getenv);
std::filesystem::path default_download_dir(const std::filesystem::path& state_dir,
                                           const Getenv& getenv);

}  // namespace btd::daemon
