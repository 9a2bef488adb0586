#include "cli-remote/args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>

#include "cli-remote/cli_error.hpp"
#include "cli-remote/help_format.hpp"

namespace btd::btctl {
namespace {

constexpr const char* kProgram = "btctl";

constexpr const char* kProgramUsage =
    "[--rpc URL] [--token T | --state-dir DIR] [--timeout S] COMMAND ...";

constexpr const char* kDescription =
    "Remote control for a running btd: adds, lists and controls its torrents through btd's\n"
    "JSON-RPC endpoint.";

constexpr const char* kNotes =
    R"(ID is any unique prefix of a torrent's info-hash. RATE is bytes/s with an optional K, M
or G (x1024), e.g. 500K, 2M or 1.5MiB/s; 0 = unlimited. `btctl COMMAND --help` explains one
command, with an example.

The daemon is found through its state dir (--state-dir, else $BTD_STATE_DIR, else
$XDG_STATE_HOME/btd, else ~/.local/state/btd): rpc.address and rpc.secret there.
--token or $BTD_RPC_TOKEN overrides the secret.

exit codes: 0 ok, 1 error reported by btd, 2 usage or unknown/ambiguous id,
            3 btd not reachable, 4 authentication refused)";

constexpr const char* kCommandNote =
    "Global options (--rpc, --token, --state-dir, --timeout) go before or after the command;\n"
    "`btctl --help` explains them, how btd is found, and the exit codes.";

// -- option builders -----------------------------------------------------------------------------

int parse_timeout(const std::string& text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > 3600)
        throw usage_error("--timeout takes seconds from 1 to 3600, not '" + text + "'");
    return value;
}

std::int64_t rate_value(const std::string& flag, const std::string& text) {
    auto rate = parse_rate(text);
    if (!rate) throw usage_error(flag + ": '" + text + "' is not " + std::string(kRateSyntax));
    return *rate;
}

double ratio_value(const std::string& text) {
    double r = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), r);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(r) || r < 0)
        throw usage_error("--ratio-limit takes a number >= 0, not '" + text + "'");
    return r;
}

// Seconds, or minutes/hours with an m/h suffix: "90", "30m", "2h".
std::int64_t idle_limit_value(const std::string& text) {
    constexpr std::int64_t kMax = 10LL * 365 * 24 * 3600;  // btd's own bound
    std::int64_t v = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    std::string_view unit(end, text.data() + text.size());
    std::int64_t scale = unit.empty() || unit == "s" ? 1
                         : unit == "m"               ? 60
                         : unit == "h"               ? 3600
                                                     : 0;
    if (ec != std::errc{} || v < 0 || scale == 0 || v > kMax / scale)
        throw usage_error("--idle-limit takes seconds (or 30m, 2h), 0 = none, not '" + text + "'");
    return v * scale;
}

void add_json(CLI::App& command, CliOptions& o) {
    command.add_flag("--json", o.json, "print btd's reply as JSON instead of text");
}

void add_global_options(CLI::App& app, CliOptions& o) {
    app.add_option("--rpc", o.rpc_url, "btd's endpoint, e.g. http://127.0.0.1:9092/rpc")
        ->type_name("URL");
    app.add_option("--token", o.token,
                   "the RPC secret (default: $BTD_RPC_TOKEN, then the state dir)")
        ->type_name("T");
    app.add_option("--state-dir", o.state_dir,
                   "btd's state dir, where rpc.address and rpc.secret are")
        ->type_name("DIR");
    app.add_option_function<std::string>(
           "--timeout", [&o](const std::string& v) { o.timeout_seconds = parse_timeout(v); },
           "seconds to wait for btd, 1..3600 (default 30)")
        ->type_name("S");
    app.add_flag("--json", o.json, "print btd's reply as JSON (also after the command)");
    app.add_flag("--version", o.version, "print btctl's version");
}

// Torrent ids as positional arguments (ID is any unique prefix of an info-hash).
void add_ids(CLI::App& command, CliOptions& o, const char* what) {
    command.add_option("ids", o.args, what)->type_name("ID...");
}

void add_all(CLI::App& command, CliOptions& o) {
    command.add_flag("--all", o.all, "every torrent, instead of IDs");
}

void add_label_option(CLI::App& c, CliOptions& o, const std::string& what) {
    c.add_option_function<std::vector<std::string>>(
         "--label",
         [&o](const std::vector<std::string>& values) {
             for (const auto& v : values) {
                 if (v.empty()) throw usage_error("--label needs a non-empty label");
                 if (v.find(',') != std::string::npos)
                     throw usage_error("--label takes one label without commas; repeat --label");
                 o.labels.push_back(v);
             }
         },
         what)
        ->type_name("L")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void add_options_of_add(CLI::App& c, CliOptions& o) {
    c.add_option("sources", o.args,
                 "a .torrent or .magnet file, a magnet link or an http(s) URL of a .torrent")
        ->type_name("FILE|MAGNET|URL...");
    c.add_option_function<std::string>(
         "--dir",
         [&o](const std::string& v) {
             if (v.empty()) throw usage_error("--dir needs a directory");
             o.dir = v;
         },
         "save into DIR instead of btd's download_dir (relative to where btctl runs)")
        ->type_name("DIR");
    c.add_flag("--paused", o.paused, "add without starting (start later with btctl resume)");
    add_label_option(c, o, "give the torrents label L (e.g. tv); repeatable");
}

void add_options_of_list(CLI::App& c, CliOptions& o) {
    add_label_option(c, o, "only torrents with label L; repeated: with any of them");
}

void add_options_of_info(CLI::App& c, CliOptions& o) {
    add_ids(c, o, "the torrent to show");
}

void add_options_of_id_action(CLI::App& c, CliOptions& o) {
    add_ids(c, o, "the torrents to act on");
    add_all(c, o);
}

void add_options_of_resume(CLI::App& c, CliOptions& o) {
    add_options_of_id_action(c, o);
    c.add_flag("--now", o.now, "start at once, outside the download queue's limits");
}

void add_options_of_queue(CLI::App& c, CliOptions& o) {
    c.add_option("words", o.args, "where to, then the torrents to move")
        ->type_name("top|up|down|bottom ID...");
}

void add_options_of_move(CLI::App& c, CliOptions& o) {
    c.add_option("words", o.args, "the torrent, then the directory to move its data to")
        ->type_name("ID DIR");
}

void add_options_of_remove(CLI::App& c, CliOptions& o) {
    add_ids(c, o, "the torrents to remove, each named by its ID");
    c.add_flag("--delete-data", o.delete_data, "also delete the downloaded files");
}

void add_options_of_set(CLI::App& c, CliOptions& o) {
    add_ids(c, o, "the torrents to change");
    add_all(c, o);
    c.add_option_function<std::string>(
         "--down-limit",
         [&o](const std::string& v) { o.down_limit = rate_value("--down-limit", v); },
         "download limit for each torrent, e.g. 500K, 2M; 0 = unlimited")
        ->type_name("RATE");
    c.add_option_function<std::string>(
         "--up-limit", [&o](const std::string& v) { o.up_limit = rate_value("--up-limit", v); },
         "upload limit for each torrent, e.g. 500K, 2M; 0 = unlimited")
        ->type_name("RATE");
    c.add_option_function<std::string>(
         "--ratio-limit", [&o](const std::string& v) { o.ratio_limit = ratio_value(v); },
         "stop seeding at this upload/download ratio, e.g. 2 or 1.5; 0 = no limit")
        ->type_name("R");
    c.add_option_function<std::string>(
         "--idle-limit", [&o](const std::string& v) { o.idle_limit = idle_limit_value(v); },
         "stop seeding after this long without uploading (90, 30m, 2h); 0 = no limit")
        ->type_name("TIME");
    c.add_option_function<std::vector<std::string>>(
         "--files",
         [&o](const std::vector<std::string>& items) {
             for (const auto& item : items) parse_file_priorities(item, o.file_priorities);
         },
         "priority of files by their number in `btctl info`: INDEXES like 0,2,5-7;\n"
         "PRIORITY skip, low, normal, high or 0..7. Repeatable; later ones win")
        ->type_name("INDEXES=PRIORITY")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    c.add_option_function<std::string>(
         "--sequential",
         [&o](const std::string& v) {
             if (v != "on" && v != "off")
                 throw usage_error("--sequential takes on or off, not '" + v + "'");
             o.sequential = v == "on";
         },
         "on: fetch pieces in order (to play while downloading); off: rarest first")
        ->type_name("on|off");
    add_label_option(c, o, "replace the torrents' labels with L and the other --label ones");
    c.add_flag("--no-labels", o.no_labels, "remove every label from the torrents");
}

void add_options_of_token(CLI::App& c, CliOptions& o) {
    c.add_option("words", o.args, "create NAME, list, or revoke NAME")
        ->type_name("create NAME|list|revoke NAME");
    c.add_flag("--read-only", o.read_only,
               "with create: the token can list, watch and scrape but change nothing");
}

void add_options_of_session(CLI::App& c, CliOptions& o) {
    c.add_option("words", o.args, "get [KEY], or set KEY VALUE")
        ->type_name("get [KEY]|set KEY VALUE");
}

void add_no_options(CLI::App&, CliOptions&) {}

// -- the command table ---------------------------------------------------------------------------

struct Command {
    CommandHelp help;
    void (*add_options)(CLI::App&, CliOptions&);
};

const Command kCommands[] = {
    {{"add", "FILE|MAGNET|URL...", "[--dir DIR] [--paused] [--label L]... [--json]",
      "add torrents from .torrent files, magnet links or http(s) URLs",
      "A .torrent or .magnet file is read by btctl and sent to btd, so btd need not be able to\n"
      "read it. URLs are fetched by btd. A magnet link's job shows state `metadata` until its\n"
      "peers sent the info dictionary, then downloads like any other.\n"
      "Adding a torrent btd already has is reported, not an error.",
      "btctl add ubuntu.iso.torrent\nbtctl add 'magnet:?xt=urn:btih:...&dn=ubuntu.iso'\n"
      "btctl add --dir /srv/isos --paused a.torrent b.torrent\n"
      "btctl add --label tv show.torrent"},
     add_options_of_add},
    {{"list", "", "[--label L]... [--json]",
      "list torrents: name, state, progress, size, rates, peers, ETA, labels",
      "A LABELS column is shown when some torrent has labels.",
      "btctl list\nbtctl list --label tv\nwatch -n 2 btctl list"},
     add_options_of_list},
    {{"info", "ID", "[--json]", "show one torrent: files, trackers, peers, pieces",
      "Files are numbered as `btctl set` expects them.", "btctl info 3f2a"},
     add_options_of_info},
    {{"pause", "ID...|--all", "[--json]", "stop torrents; they keep their data and settings", "",
      "btctl pause 3f2a 9c1\nbtctl pause --all"},
     add_options_of_id_action},
    {{"resume", "ID...|--all", "[--now] [--json]", "start paused torrents again",
      "With more torrents than max_active_downloads (or _seeds), the later ones in the queue\n"
      "wait in state `queued`; --now starts them at once, outside the limits, until paused.",
      "btctl resume 3f2a\nbtctl resume --all\nbtctl resume --now 3f2a"},
     add_options_of_resume},
    {{"queue", "top|up|down|bottom ID...", "[--json]",
      "move torrents in the download queue (first in the queue starts first)",
      "up and down move each torrent one place; top and bottom keep their order.",
      "btctl queue top 3f2a\nbtctl queue down 3f2a 9c1"},
     add_options_of_queue},
    {{"move", "ID DIR", "[--json]", "move a torrent's data to another directory, while it runs",
      "Within one file system the files are renamed; across file systems they are copied, and\n"
      "the originals deleted only once every copy is whole. The torrent goes on from DIR.",
      "btctl move 3f2a /srv/media/tv"},
     add_options_of_move},
    {{"reannounce", "ID...|--all", "[--json]",
      "ask the trackers for peers now (as soon as their minimum interval allows)", "",
      "btctl reannounce 3f2a"},
     add_options_of_id_action},
    {{"verify", "ID...|--all", "[--json]",
      "check the data on disk against the piece hashes; fetch what fails", "", "btctl verify 3f2a"},
     add_options_of_id_action},
    {{"remove", "ID...", "[--delete-data] [--json]",
      "remove torrents from btd; their files stay unless --delete-data", "",
      "btctl remove 3f2a\nbtctl remove 3f2a --delete-data"},
     add_options_of_remove},
    {{"set", "ID...|--all",
      "[--down-limit RATE] [--up-limit RATE] [--ratio-limit R]\n"
      "                 [--files INDEXES=PRIORITY]... [--sequential on|off]\n"
      "                 [--label L]... [--no-labels] [--json]",
      "change rate limits, seeding ratio, file priorities, piece order and labels",
      "Give at least one of the options; what is not given stays as it is.",
      "btctl set 3f2a --down-limit 2M --up-limit 500K\n"
      "btctl set 3f2a --files 1,4-6=skip --files 0=high\n"
      "btctl set --all --ratio-limit 2\n"
      "btctl set 3f2a --label tv --label hd"},
     add_options_of_set},
    {{"stats", "", "[--json]", "session totals: torrents, rates, bytes transferred", "",
      "btctl stats"},
     add_no_options},
    {{"watch", "", "[--json]", "print btd's events as they happen, until btd stops",
      "Follows GET /events: torrent-added, state-changed, completed, error, removed, and a stats\n"
      "line at most once a second. --json prints one JSON object per line.",
      "btctl watch\nbtctl watch --json | jq -c 'select(.event == \"completed\")'"},
     add_no_options},
    {{"token", "ACTION [NAME]", "[--read-only] [--json]",
      "manage named RPC tokens: create NAME, list, revoke NAME (needs rpc.secret)",
      "A token is printed once, at creation; btd keeps only its hash (tokens.json in its state\n"
      "dir). A --read-only token can list, get, watch and scrape /metrics; every changing call\n"
      "gets error -32010. Revoking a token ends its use and its browser logins at once.",
      "btctl token create grafana --read-only\nbtctl token list\nbtctl token revoke grafana"},
     add_options_of_token},
    {{"session", "ACTION [ARGS]", "[--json]",
      "btd's settings: get [KEY] shows, set KEY VALUE changes one at run time",
      "VALUE is a number, true/false, or text (rates as in the config file, e.g. 2M). A change\n"
      "is kept in settings.json across restarts; the config file is never rewritten.",
      "btctl session get\nbtctl session get download_dir\n"
      "btctl session set download_rate_limit 2M\nbtctl session set ratio_limit 1.5"},
     add_options_of_session},
    {{"version", "", "[--json]", "print the running btd's name and version", "", "btctl version"},
     add_no_options},
    {{"shutdown", "", "[--json]", "ask btd to save its state and exit", "", "btctl shutdown"},
     add_no_options},
};

std::unique_ptr<CLI::App> make_app(CliOptions& o) {
    std::vector<CommandHelp> help_rows;
    for (const auto& c : kCommands) help_rows.push_back(c.help);
    auto app = std::make_unique<CLI::App>(kDescription, kProgram);
    app->formatter(std::make_shared<HelpFormatter>(help_rows, kProgramUsage, kCommandNote));
    app->footer(kNotes);
    app->allow_extras();  // reported by reject_extras, with a message of our own
    app->fallthrough();   // global options may follow the command
    app->require_subcommand(0, 1);
    app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app->option_defaults()->disable_flag_override();
    app->option_defaults()->group("Global options");
    app->set_help_flag("-h,--help", "print this help");
    add_global_options(*app, o);
    app->option_defaults()->group("Options");
    for (const auto& c : kCommands) {
        auto* command = app->add_subcommand(std::string(c.help.name), std::string(c.help.summary));
        command->group("Commands");
        command->set_help_flag("-h,--help", "print this help");
        c.add_options(*command, o);
        add_json(*command, o);
    }
    return app;
}

// -- checks CLI11 leaves to us -------------------------------------------------------------------

const CLI::Option* find_option(const CLI::App& app, const std::string& name) {
    if (const auto* opt = app.get_option_no_throw(name)) return opt;
    for (const auto* command : app.get_subcommands([](const CLI::App*) { return true; }))
        if (const auto* opt = command->get_option_no_throw(name)) return opt;
    return nullptr;
}

// "--json=yes" and a value option with nothing after it, named in our words.
void check_option_values(const CLI::App& app, const std::vector<std::string>& argv) {
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const auto& arg = argv[i];
        if (arg.rfind("--", 0) != 0) continue;
        auto eq = arg.find('=');
        auto name = arg.substr(0, eq);
        const auto* opt = find_option(app, name);
        if (opt == nullptr) continue;
        bool takes_value = opt->get_items_expected_max() != 0;
        if (!takes_value && eq != std::string::npos) throw usage_error(name + " takes no value");
        if (takes_value && eq == std::string::npos && i + 1 == argv.size())
            throw usage_error(name + " needs a value");
    }
}

std::string help_hint(const std::string& command) {
    return std::string("(try ") + kProgram + " " + (command.empty() ? "" : command + " ") +
           "--help)";
}

// The commands that have option `name`.
std::vector<std::string> commands_with_option(const CLI::App& app, const std::string& name) {
    std::vector<std::string> names;
    for (const auto* command : app.get_subcommands([](const CLI::App*) { return true; }))
        if (command->get_option_no_throw(name) != nullptr) names.push_back(command->get_name());
    return names;
}

void reject_option(const CLI::App& app, const std::string& name, const std::string& command) {
    auto owners = commands_with_option(app, name);
    if (owners.empty()) throw usage_error("unknown option '" + name + "' " + help_hint(command));
    if (std::find(owners.begin(), owners.end(), command) != owners.end())
        // It came before the command, where only global options go.
        throw usage_error(name + " is an option of " + command + ": put it after the command " +
                          help_hint(command));
    std::string list;
    for (const auto& owner : owners) list += (list.empty() ? "" : ", ") + owner;
    throw usage_error(name + " is not an option of " + (command.empty() ? "btctl" : command) +
                      " (only of: " + list + ") " + help_hint(command));
}

// Words CLI11 could not place: unknown options, unknown commands, arguments where none belong.
void reject_extras(const CLI::App& app, const std::string& command) {
    auto extras = app.remaining(true);
    if (extras.empty()) return;
    const auto& word = extras.front();
    if (word.size() > 1 && word[0] == '-')
        reject_option(app, word.substr(0, word.find('=')), command);
    if (command.empty()) throw usage_error("unknown command '" + word + "' " + help_hint(""));
    throw usage_error(command + " takes no arguments, not '" + word + "' " + help_hint(command));
}

void check_token_arguments(const CliOptions& o) {
    const auto& a = o.args;
    auto action = a.empty() ? std::string() : a.front();
    if (action == "list" && a.size() == 1 && !o.read_only) return;
    if (action == "revoke" && a.size() == 2 && !o.read_only) return;
    if (action == "create" && a.size() == 2) return;
    throw usage_error("token takes: create NAME [--read-only], list, or revoke NAME " +
                      help_hint("token"));
}

void check_session_arguments(const CliOptions& o) {
    const auto& a = o.args;
    auto action = a.empty() ? std::string() : a.front();
    if (action == "get" && a.size() <= 2) return;
    if (action == "set" && a.size() == 3) return;
    throw usage_error("session takes: get [KEY], or set KEY VALUE " + help_hint("session"));
}

bool is_queue_move(const std::string& word) {
    return word == "top" || word == "up" || word == "down" || word == "bottom";
}

// How many IDs each command takes, and which options belong together.
void check_arguments(const CliOptions& o) {
    const auto& c = o.command;
    auto n = o.args.size();
    if (c == "add" && n == 0) throw usage_error("add needs a .torrent file, URL or magnet link");
    if ((c == "list" || c == "stats" || c == "version" || c == "shutdown" || c == "watch") && n > 0)
        throw usage_error(c + " takes no arguments");
    if (c == "info" && n != 1) throw usage_error("info needs exactly one torrent id");
    if (c == "remove" && n == 0) throw usage_error("remove needs one or more torrent ids");
    if (c == "queue" && (n < 2 || !is_queue_move(o.args.front())))
        throw usage_error("queue takes top, up, down or bottom, then torrent ids " +
                          help_hint("queue"));
    if (c == "move" && n != 2) throw usage_error("move needs a torrent id and a directory");
    if (c == "pause" || c == "resume" || c == "verify" || c == "set" || c == "reannounce") {
        if (o.all && n > 0) throw usage_error(c + ": give torrent ids or --all, not both");
        if (!o.all && n == 0) throw usage_error(c + " needs torrent ids or --all");
    }
    if (c == "token") check_token_arguments(o);
    if (c == "session") check_session_arguments(o);
    if (c == "set" && !o.down_limit && !o.up_limit && !o.ratio_limit && !o.idle_limit &&
        o.file_priorities.empty() && !o.sequential && o.labels.empty() && !o.no_labels)
        throw usage_error(
            "set needs --down-limit, --up-limit, --ratio-limit, --idle-limit, --files, "
            "--sequential, --label or --no-labels");
}

std::string selected_command(const CLI::App& app) {
    auto selected = app.get_subcommands();
    return selected.empty() ? std::string() : selected.front()->get_name();
}

}  // namespace

CliOptions parse_args(const std::vector<std::string>& argv) {
    CliOptions o;
    auto app = make_app(o);
    // Words after "--" are the command's arguments whatever they look like. CLI11 would hand them
    // to the program once the command has its first argument, so they are set aside here.
    auto dashes = std::find(argv.begin(), argv.end(), "--");
    std::vector<std::string> options(argv.begin(), dashes);
    try {
        check_option_values(*app, options);
        std::vector<std::string> reversed(options.rbegin(), options.rend());  // as CLI11 takes them
        app->parse(reversed);
    } catch (const CLI::CallForHelp&) {
        o.help = true;
        o.help_text = app->help();
        return o;
    } catch (const CLI::ParseError& e) {
        throw usage_error(std::string(e.what()) + " " + help_hint(selected_command(*app)));
    }
    o.command = selected_command(*app);
    reject_extras(*app, o.command);
    if (o.version) return o;
    if (o.command.empty()) throw usage_error("no command given " + help_hint(""));
    if (dashes != argv.end()) o.args.insert(o.args.end(), dashes + 1, argv.end());
    check_arguments(o);
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
    CliOptions unused;
    return make_app(unused)->help();
}

std::vector<std::string> command_names() {
    std::vector<std::string> names;
    for (const auto& c : kCommands) names.emplace_back(c.help.name);
    return names;
}

}  // namespace btd::btctl
