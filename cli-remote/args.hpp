#pragma once
// btctl's command line: [global options] COMMAND [args and command options], parsed with CLI11.
// Global options may also follow the command; a command's own options must follow it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/units.hpp"

namespace btd::btctl {

struct CliOptions {
    // Global.
    std::optional<std::string> rpc_url;
    std::optional<std::string> token;
    std::optional<std::string> state_dir;
    int timeout_seconds = 30;
    bool help = false;
    std::string help_text;  // with help: the program's help, or the command's for CMD --help
    bool version = false;
    // The command and its arguments.
    std::string command;
    std::vector<std::string> args;  // positionals after the command
    bool json = false;
    bool all = false;
    bool paused = false;
    bool delete_data = false;
    bool read_only = false;  // token create --read-only
    std::optional<std::string> dir;
    std::optional<std::int64_t> down_limit;  // bytes/s, 0 = unlimited
    std::optional<std::int64_t> up_limit;
    std::optional<double> ratio_limit;
    std::optional<std::int64_t> idle_limit;  // s without upload before seeding stops; 0 = none
    std::map<int, int> file_priorities;      // file index -> 0 (skip) .. 7 (high)
    std::optional<bool> sequential;
    std::vector<std::string> labels;  // add --label, set --label, list --label (a filter)
    bool no_labels = false;           // set --no-labels
    bool now = false;                 // resume --now: start outside the download queue
};

// Throws CliError(usage) with a message naming the problem (and the offending word) and the
// --help to read.
CliOptions parse_args(const std::vector<std::string>& argv);  // argv without the program name

// "0", "500", "64K", "1.5MiB/s", "2G", "unlimited" -> bytes/s: the syntax btd's config shares.
using btd::parse_rate;

// "0,2,5-7=skip" -> {0:0, 2:0, 5:0, 6:0, 7:0}, added to `out`. Priorities: skip, low, normal,
// high or 0..7. Throws CliError(usage).
void parse_file_priorities(std::string_view text, std::map<int, int>& out);

// `btctl --help`: the usage line, one line per command, the global options and the notes.
std::string usage_text();

// Every command's name, in the order `btctl --help` lists them.
std::vector<std::string> command_names();

}  // namespace btd::btctl
