#pragma once
// btd's configuration: the `key = value` config file, command-line overrides, and the resolved
// settings the daemon runs with. The config file belongs to the user; btd only reads it.
//
// Format (see systemd/btd.conf.sample): one `key = value` per line; blank lines and lines whose
// first non-blank character is `#` are ignored; values are taken verbatim after trimming blanks
// (no quoting, no inline comments). Unknown keys and bad values are errors naming the line.
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

// Every setting, each optional so that layers (file, command line) can be merged.
struct ConfigValues {
    std::optional<std::filesystem::path> download_dir;
    std::optional<std::filesystem::path> state_dir;
    std::optional<HostPort> rpc_listen;
    std::optional<std::uint16_t> listen_port;
    std::optional<spdlog::level::level_enum> log_level;
    std::optional<std::int64_t> download_rate_limit;  // bytes/s, 0 = unlimited
    std::optional<std::int64_t> upload_rate_limit;
    std::optional<int> max_peers_per_torrent;
    std::optional<double> ratio_limit;            // stop seeding at this ratio; 0 = never
    std::optional<std::int64_t> seed_idle_limit;  // seconds without upload; 0 = never
    std::optional<std::int64_t> memory_budget_mib;
    std::optional<unsigned> disk_threads;  // 0 = number of cores
    std::optional<bool> rpc_auth;
    std::optional<bool> metrics_public;  // /metrics without a token
    std::optional<std::vector<std::string>> rpc_allowed_hosts;
    // Where RPC callers may put data (torrent.add, session.set download_dir); absolute paths.
    std::optional<std::vector<std::filesystem::path>> allowed_download_dirs;

    // Values set in `higher` replace ours.
    void override_with(const ConfigValues& higher);
};

// The keys the config file accepts, in documentation order.
const std::vector<std::string>& config_keys();

// Sets one key from its text form; throws ConfigError("...") naming the key and what is wrong.
void set_config_value(ConfigValues& values, std::string_view key, std::string_view value);

// The value part of a `key = value` line: trimmed; a '#' at its start or after a blank begins a
// comment. A value in double quotes is taken literally up to the closing quote (backslash
// escapes a quote or a backslash), so it may hold " #"; only a comment may follow it.
// Throws ConfigError for a missing closing quote or text after it.
std::string config_value_text(std::string_view raw);

// Parses config file text; `source` (usually the file name) prefixes error messages:
// "btd.conf:7: unknown key 'foo'".
ConfigValues parse_config_text(std::string_view text, const std::string& source);
ConfigValues load_config_file(const std::filesystem::path& file);

// Parsers for the value syntaxes (exposed for the command line and tests).
HostPort parse_host_port(std::string_view text);  // "127.0.0.1:9092", "[::1]:0"
std::int64_t parse_rate(std::string_view text);   // bytes/s; syntax of core/util/units.hpp
spdlog::level::level_enum parse_log_level(std::string_view text);
bool parse_bool(std::string_view text);     // true/false, yes/no, on/off, 1/0
double parse_ratio(std::string_view text);  // a finite decimal number >= 0, e.g. "2" or "1.5"

// The configuration the daemon runs with: every value decided.
struct DaemonConfig {
    std::filesystem::path state_dir;
    std::filesystem::path download_dir;
    HostPort rpc_listen;
    std::uint16_t listen_port = 6881;
    spdlog::level::level_enum log_level = spdlog::level::info;
    std::int64_t download_rate_limit = 0;
    std::int64_t upload_rate_limit = 0;
    int max_peers_per_torrent = 60;
    double ratio_limit = 0;
    std::int64_t seed_idle_limit = 0;
    std::int64_t memory_budget_mib = 256;
    unsigned disk_threads = 0;
    bool rpc_auth = true;
    bool metrics_public = false;
    std::vector<std::string> rpc_allowed_hosts;
    std::vector<std::filesystem::path> allowed_download_dirs;  // empty = anywhere

    SessionSettings session_settings() const;
    // key -> printable value, for logging the configuration and what a reload changed.
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
