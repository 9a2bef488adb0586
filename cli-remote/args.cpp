#include "cli-remote/args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "cli-remote/cli_error.hpp"
#include "core/util/ascii.hpp"

namespace btd::cli {
namespace {

const std::set<std::string, std::less<>> kCommands = {"add",    "list",    "info",    "pause",
                                                      "resume", "verify",  "remove",  "stats",
                                                      "set",    "version", "shutdown"};

// Commands each command-specific flag applies to.
void check_applies(std::string_view flag, const std::string& command,
                   std::initializer_list<std::string_view> commands) {
    if (std::find(commands.begin(), commands.end(), command) != commands.end()) return;
    std::string list;
    for (auto c : commands) list += (list.empty() ? "" : ", ") + std::string(c);
    throw usage_error(std::string(flag) + " only applies to: " + list);
}

int parse_timeout(const std::string& text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > 3600)
        throw usage_error("--timeout takes seconds from 1 to 3600, not '" + text + "'");
    return value;
}

}  // namespace

std::optional<std::int64_t> parse_rate(std::string_view text) {
    if (text == "unlimited") return 0;
    std::string lower = ascii_lower(text);
    std::string_view s = lower;
    for (std::string_view suffix : {"/s", "ib", "b"})
        if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix)
            s.remove_suffix(suffix.size());
    double scale = 1;
    if (!s.empty()) {
        switch (s.back()) {
            case 'k':
                scale = 1024.0;
                break;
            case 'm':
                scale = 1024.0 * 1024;
                break;
            case 'g':
                scale = 1024.0 * 1024 * 1024;
                break;
            default:
                break;
        }
        if (scale != 1) s.remove_suffix(1);
    }
    if (s.empty() ||
        !std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
        return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    double bytes = std::round(value * scale);
    if (bytes < 0 || bytes > 1e12) return std::nullopt;
    return static_cast<std::int64_t>(bytes);
}

CliOptions parse_args(const std::vector<std::string>& argv) {
    CliOptions o;
    bool options_done = false;
    std::vector<std::pair<std::string, std::string>> command_flags;  // validated once we know

    for (std::size_t i = 0; i < argv.size(); ++i) {
        std::string arg = argv[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            if (o.command.empty()) {
                if (!kCommands.count(arg))
                    throw usage_error("unknown command '" + arg + "' (try btctl --help)");
                o.command = arg;
            } else {
                o.args.push_back(arg);
            }
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::optional<std::string> inline_value;
        if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            inline_value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        auto value = [&]() -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= argv.size()) throw usage_error(arg + " needs a value");
            return argv[++i];
        };
        auto no_value = [&] {
            if (inline_value) throw usage_error(arg + " takes no value");
        };

        if (arg == "-h" || arg == "--help")
            no_value(), o.help = true;
        else if (arg == "--version")
            no_value(), o.version = true;
        else if (arg == "--rpc")
            o.rpc_url = value();
        else if (arg == "--token")
            o.token = value();
        else if (arg == "--state-dir")
            o.state_dir = value();
        else if (arg == "--timeout")
            o.timeout_seconds = parse_timeout(value());
        else if (arg == "--json" || arg == "--all" || arg == "--paused" || arg == "--delete-data") {
            no_value();
            command_flags.emplace_back(arg, "");
        } else if (arg == "--dir" || arg == "--down-limit" || arg == "--up-limit" ||
                   arg == "--ratio-limit" || arg == "--files" || arg == "--sequential") {
            command_flags.emplace_back(arg, value());
        } else {
            throw usage_error("unknown option '" + arg + "' (try btctl --help)");
        }
    }
    if (o.help || o.version) return o;
    if (o.command.empty()) throw usage_error("no command given (try btctl --help)");

    for (const auto& [flag, value] : command_flags) {
        if (flag == "--json") {
            o.json = true;
        } else if (flag == "--all") {
            check_applies(flag, o.command, {"pause", "resume", "verify", "set"});
            o.all = true;
        } else if (flag == "--paused") {
            check_applies(flag, o.command, {"add"});
            o.paused = true;
        } else if (flag == "--delete-data") {
            check_applies(flag, o.command, {"remove"});
            o.delete_data = true;
        } else if (flag == "--dir") {
            check_applies(flag, o.command, {"add"});
            if (value.empty()) throw usage_error("--dir needs a directory");
            o.dir = value;
        } else if (flag == "--down-limit" || flag == "--up-limit") {
            check_applies(flag, o.command, {"set"});
            auto rate = parse_rate(value);
            if (!rate)
                throw usage_error(flag + " takes a rate like 500K, 2M or 0 (unlimited), not '" +
                                  value + "'");
            (flag == "--down-limit" ? o.down_limit : o.up_limit) = *rate;
        } else if (flag == "--ratio-limit") {
            check_applies(flag, o.command, {"set"});
            double r = -1;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), r);
            if (ec != std::errc{} || end != value.data() + value.size() || r < 0)
                throw usage_error("--ratio-limit takes a number >= 0, not '" + value + "'");
            o.ratio_limit = r;
        } else if (flag == "--files") {
            check_applies(flag, o.command, {"set"});
            parse_file_priorities(value, o.file_priorities);
        } else if (flag == "--sequential") {
            check_applies(flag, o.command, {"set"});
            if (value != "on" && value != "off")
                throw usage_error("--sequential takes on or off, not '" + value + "'");
            o.sequential = value == "on";
        }
    }

    const auto& c = o.command;
    auto n = o.args.size();
    if (c == "add" && n == 0) throw usage_error("add needs a .torrent file, URL or magnet link");
    if ((c == "list" || c == "stats" || c == "version" || c == "shutdown") && n > 0)
        throw usage_error(c + " takes no arguments");
    if (c == "info" && n != 1) throw usage_error("info needs exactly one torrent id");
    if (c == "remove" && n == 0) throw usage_error("remove needs one or more torrent ids");
    if (c == "pause" || c == "resume" || c == "verify" || c == "set") {
        if (o.all && n > 0) throw usage_error(c + ": give torrent ids or --all, not both");
        if (!o.all && n == 0) throw usage_error(c + " needs torrent ids or --all");
    }
    if (c == "set" && !o.down_limit && !o.up_limit && !o.ratio_limit && o.file_priorities.empty() &&
        !o.sequential)
        throw usage_error(
            "set needs --down-limit, --up-limit, --ratio-limit, --files or --sequential");
    return o;
}

namespace {

int parse_index(std::string_view s, std::string_view whole) {
    int v = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 0 || v > 1'000'000)
        throw usage_error("--files: '" + std::string(whole) +
                          "' is not INDEXES=PRIORITY (e.g. 0,2,5-7=skip)");
    return v;
}

}  // namespace

void parse_file_priorities(std::string_view text, std::map<int, int>& out) {
    auto eq = text.rfind('=');
    if (eq == std::string_view::npos || eq == 0)
        throw usage_error("--files takes INDEXES=PRIORITY (e.g. 0,2,5-7=skip), not '" +
                          std::string(text) + "'");
    auto name = text.substr(eq + 1);
    int priority = -1;
    if (name == "skip")
        priority = 0;
    else if (name == "low")
        priority = 1;
    else if (name == "normal")
        priority = 4;
    else if (name == "high")
        priority = 7;
    else if (name.size() == 1 && name[0] >= '0' && name[0] <= '7')
        priority = name[0] - '0';
    else
        throw usage_error("--files: priority '" + std::string(name) +
                          "' is not skip, low, normal, high or 0..7");
    auto list = text.substr(0, eq);
    std::size_t count = 0;
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        auto dash = item.find('-');
        int first = parse_index(item.substr(0, dash), text);
        int last =
            dash == std::string_view::npos ? first : parse_index(item.substr(dash + 1), text);
        if (last < first || (count += last - first + 1) > 100'000)
            throw usage_error("--files: bad range in '" + std::string(text) + "'");
        for (int i = first; i <= last; ++i) out[i] = priority;
    }
}

std::string usage_text() {
    return R"(usage: btctl [--rpc URL] [--token T | --state-dir DIR] [--timeout S] COMMAND ...

commands:
  add FILE|MAGNET|URL... [--dir DIR] [--paused]
  list [--json]
  info ID [--json]
  pause|resume|verify ID...|--all
  remove ID... [--delete-data]
  set ID...|--all [--down-limit RATE] [--up-limit RATE] [--ratio-limit R]
                  [--files INDEXES=PRIORITY]... [--sequential on|off]
  stats [--json]
  version | shutdown

ID is any unique prefix of a torrent's info-hash. RATE is bytes/s with an optional
K/M/G suffix (binary), 0 = unlimited. INDEXES are file numbers as `btctl info` shows
them (e.g. 0,2,5-7); PRIORITY is skip, low, normal, high or 0..7.

The daemon is found through its state dir (--state-dir, else $BTD_STATE_DIR, else
$XDG_STATE_HOME/btd, else ~/.local/state/btd): rpc.address and rpc.secret there.
--token or $BTD_RPC_TOKEN overrides the secret.

exit codes: 0 ok, 1 error reported by btd, 2 usage or unknown/ambiguous id,
            3 btd not reachable, 4 authentication refused
)";
}

}  // namespace btd::cli
