#include "daemon/command_line.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>

#include "daemon/settings.hpp"

namespace btd::daemon {
namespace {

constexpr const char* kDescription = "btd: the BitTorrent download daemon.";

constexpr const char* kNotes =
    "Runs in the foreground (--foreground is accepted and implied). SIGTERM/SIGINT stop it\n"
    "after saving state; SIGHUP reloads the config file. Flags win over the config file; every\n"
    "setting and its syntax is in btd.conf(5). RATE is bytes/s with an optional K, M or G\n"
    "(x1024), e.g. 500K, 2M, 1.5MiB/s; 0 = unlimited. --download exits when complete (with\n"
    "--seed: keeps seeding until SIGINT/SIGTERM). Seeding torrents pause at --ratio-limit\n"
    "(uploaded/downloaded) or after --seed-idle-limit seconds without uploading; 0 = never.";

constexpr const char* kDownloadUsage =
    "btd --download FILE.torrent [--download-dir DIR] [--listen-port PORT]\n"
    "           [--timeout SECONDS] [--seed] [--download-rate-limit RATE]\n"
    "           [--upload-rate-limit RATE] [--log-level LEVEL]";

constexpr std::size_t kUsageWidth = 96;

// "[--config FILE] [--state-dir DIR] ... [--foreground]": every flag of the table, wrapped.
std::string daemon_usage() {
    std::vector<std::string> words = {"[--config FILE]"};
    for (const auto& s : settings())
        if (s.from(kFlag))
            words.push_back("[" + s.flag + (s.value_name.empty() ? "" : " " + s.value_name) + "]");
    words.push_back("[--foreground]");
    const std::string indent(11, ' ');  // under the first flag, after "usage: btd "
    std::string out = "btd", line = "usage: btd";
    for (const auto& word : words) {
        if (line.size() + 1 + word.size() > kUsageWidth) {
            out += "\n" + indent;
            line = indent;
        } else {
            out += ' ';
            line += ' ';
        }
        out += word;
        line += word;
    }
    return out;
}

// CLI11's layout, with btd's usage lines on top.
class BtdFormatter : public CLI::Formatter {
  public:
    std::string make_usage(const CLI::App*, std::string) const override {
        return "usage: " + daemon_usage() + "\n       " + kDownloadUsage +
               "\n       btd --help | --version\n";
    }
};

// The default in brackets after the help; a long one (a list) goes on lines of its own, broken
// after commas, so --help fits a terminal (CLI11 indents the lines of a description).
std::string setting_help(const Setting& s) {
    constexpr std::size_t kWidth = 70;  // what the description column leaves of 100
    std::string text = s.help;
    if (s.default_text.empty()) return text;
    if (text.size() + s.default_text.size() + 3 <= kWidth)
        return text + " [" + s.default_text + "]";
    std::string line = "[";
    for (std::size_t start = 0; start < s.default_text.size();) {
        auto comma = s.default_text.find(',', start);
        auto end = comma == std::string::npos ? s.default_text.size() : comma + 1;
        auto item = s.default_text.substr(start, end - start);
        if (line.size() > 1 && line.size() + item.size() > kWidth) {
            text += "\n" + line;
            line.clear();
        }
        line += item;
        start = end;
    }
    return text + "\n" + line + "]";
}

void add_setting_flags(CLI::App& app, CommandLine& cl) {
    for (const auto& s : settings()) {
        if (!s.from(kFlag)) continue;
        if (s.value_name.empty()) {  // a switch of a boolean setting: "--no-dht" sets it false
            app.add_flag_callback(
                s.flag, [&cl, &s] { s.set_text(cl.overrides, "false"); }, setting_help(s));
            continue;
        }
        app.add_option_function<std::string>(
               s.flag,
               [&cl, &s](const std::string& value) {
                   try {
                       s.set_text(cl.overrides, value);
                   } catch (const ConfigError& e) {
                       throw UsageError("invalid " + s.flag + ": " + e.what());
                   }
               },
               setting_help(s))
            ->type_name(s.value_name);
    }
}

unsigned parse_timeout(const std::string& v) {
    try {
        std::size_t used = 0;
        auto n = std::stoul(v, &used);
        if (used != v.size() || n > 1000000) throw std::out_of_range(v);
        return static_cast<unsigned>(n);
    } catch (const std::exception&) {
        throw UsageError("invalid --timeout: '" + v + "' is not a number of seconds");
    }
}

// What the download mode's flags hold until the mode is known.
struct DownloadFlags {
    std::string torrent;
    std::optional<unsigned> timeout;
    bool seed = false;
    bool version = false;
    bool foreground = false;  // always the case
};

std::unique_ptr<CLI::App> make_app(CommandLine& cl, DownloadFlags& d) {
    auto app = std::make_unique<CLI::App>(kDescription, "btd");
    app->formatter(std::make_shared<BtdFormatter>());
    app->footer(kNotes);
    app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app->set_help_flag("-h,--help", "print this help and exit");
    app->add_flag("--version", d.version, "print btd's version and exit");
    app->option_defaults()->group("Settings");
    app->add_option_function<std::string>(
           "--config",
           [&cl](const std::string& v) {
               if (v.empty()) throw UsageError("--config needs a file name");
               cl.config_file = v;
           },
           "the config file (TOML, see btd.conf(5))")
        ->type_name("FILE");
    add_setting_flags(*app, cl);
    app->add_flag("--foreground", d.foreground,
                  "accepted and implied: systemd or a terminal supervises btd");
    app->option_defaults()->group("One-shot download");
    app->add_option("--download", d.torrent, "download FILE.torrent, then exit")
        ->type_name("FILE.torrent");
    app->add_option_function<std::string>(
           "--timeout", [&d](const std::string& v) { d.timeout = parse_timeout(v); },
           "give up after this long (with --download)")
        ->type_name("SECONDS");
    app->add_flag("--seed", d.seed, "keep seeding after the download (with --download)");
    return app;
}

void select_mode(CommandLine& cl, const DownloadFlags& d) {
    if (d.version) cl.mode = CommandLine::Mode::version;
    if (cl.mode != CommandLine::Mode::daemon) return;
    if (!d.torrent.empty()) {
        cl.mode = CommandLine::Mode::download;
        cl.download.torrent_file = d.torrent;
        if (cl.overrides.download_dir) cl.download.download_dir = *cl.overrides.download_dir;
        if (cl.overrides.listen_port) cl.download.listen_port = *cl.overrides.listen_port;
        if (d.timeout) cl.download.timeout_s = *d.timeout;
        cl.download.seed = d.seed;
        cl.download.download_rate_limit = cl.overrides.download_rate_limit.value_or(0);
        cl.download.upload_rate_limit = cl.overrides.upload_rate_limit.value_or(0);
    } else if (d.timeout || d.seed) {
        throw UsageError(std::string(d.timeout ? "--timeout" : "--seed") +
                         " applies only to --download");
    }
}

}  // namespace

std::string usage_text() {
    CommandLine cl;
    DownloadFlags d;
    return make_app(cl, d)->help();
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
    CommandLine cl;
    DownloadFlags d;
    auto app = make_app(cl, d);
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());  // as CLI11 takes them
        app->parse(reversed);
    } catch (const CLI::CallForHelp&) {
        cl.mode = CommandLine::Mode::help;
        return cl;
    } catch (const CLI::ParseError& e) {
        throw UsageError(e.what());
    }
    select_mode(cl, d);
    return cl;
}

}  // namespace btd::daemon
