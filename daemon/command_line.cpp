#include "daemon/command_line.hpp"

#include <map>

namespace btd::daemon {

const char* usage_text() {
    return "usage: btd [--config FILE] [--state-dir DIR] [--download-dir DIR]\n"
           "           [--rpc-listen HOST:PORT] [--listen-port PORT] [--log-level LEVEL]\n"
           "           [--foreground]\n"
           "           [--download-rate-limit RATE] [--upload-rate-limit RATE]\n"
           "           [--ratio-limit RATIO] [--seed-idle-limit SECONDS]\n"
           "           [--allowed-download-dirs DIR,...]\n"
           "       btd --download FILE.torrent [--download-dir DIR] [--listen-port PORT]\n"
           "           [--timeout SECONDS] [--seed] [--download-rate-limit RATE]\n"
           "           [--upload-rate-limit RATE] [--log-level LEVEL]\n"
           "       btd --help | --version\n"
           "\n"
           "Runs in the foreground (--foreground is accepted and implied). SIGTERM/SIGINT stop\n"
           "it after saving state; SIGHUP reloads the config file. RATE is bytes/s, with an\n"
           "optional K, M or G (x1024), e.g. 500K, 2M, 1.5MiB/s; 0 = unlimited. --download\n"
           "exits when complete (with --seed: keeps seeding until SIGINT/SIGTERM). Seeding\n"
           "torrents pause at --ratio-limit (uploaded/downloaded) or after --seed-idle-limit\n"
           "seconds without uploading; 0 = never.\n";
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
    // Config keys that have a flag of their own.
    static const std::map<std::string, std::string> flag_keys = {
        {"--state-dir", "state_dir"},
        {"--download-dir", "download_dir"},
        {"--allowed-download-dirs", "allowed_download_dirs"},
        {"--rpc-listen", "rpc_listen"},
        {"--listen-port", "listen_port"},
        {"--log-level", "log_level"},
        {"--download-rate-limit", "download_rate_limit"},
        {"--upload-rate-limit", "upload_rate_limit"},
        {"--ratio-limit", "ratio_limit"},
        {"--seed-idle-limit", "seed_idle_limit"}};
    CommandLine cl;
    std::optional<std::filesystem::path> torrent;
    std::optional<unsigned> timeout;
    bool seed = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& flag = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
            return args[++i];
        };
        if (auto key = flag_keys.find(flag); key != flag_keys.end()) {
            const std::string& v = value();
            try {
                set_config_value(cl.overrides, key->second, v);
            } catch (const ConfigError& e) {
                throw UsageError("invalid " + flag + ": " + e.what());
            }
        } else if (flag == "--help" || flag == "-h") {
            cl.mode = CommandLine::Mode::help;
        } else if (flag == "--version") {
            cl.mode = CommandLine::Mode::version;
        } else if (flag == "--config") {
            const std::string& v = value();
            if (v.empty()) throw UsageError("--config needs a file name");
            cl.config_file = v;
        } else if (flag == "--foreground") {
            // Always the case: systemd (Type=notify) or a terminal supervises btd.
        } else if (flag == "--seed") {
            seed = true;
        } else if (flag == "--download") {
            torrent = value();
        } else if (flag == "--timeout") {
            const std::string& v = value();
            try {
                std::size_t used = 0;
                auto n = std::stoul(v, &used);
                if (used != v.size() || n > 1000000) throw std::out_of_range(v);
                timeout = static_cast<unsigned>(n);
            } catch (const std::exception&) {
                throw UsageError("invalid --timeout: '" + v + "' is not a number of seconds");
            }
        } else {
            throw UsageError("unknown argument " + flag);
        }
    }
    if (cl.mode != CommandLine::Mode::daemon) return cl;
    if (torrent) {
        cl.mode = CommandLine::Mode::download;
        cl.download.torrent_file = *torrent;
        if (cl.overrides.download_dir) cl.download.download_dir = *cl.overrides.download_dir;
        if (cl.overrides.listen_port) cl.download.listen_port = *cl.overrides.listen_port;
        if (timeout) cl.download.timeout_s = *timeout;
        cl.download.seed = seed;
        cl.download.download_rate_limit = cl.overrides.download_rate_limit.value_or(0);
        cl.download.upload_rate_limit = cl.overrides.upload_rate_limit.value_or(0);
    } else if (timeout || seed) {
        throw UsageError(std::string(timeout ? "--timeout" : "--seed") +
                         " applies only to --download");
    }
    return cl;
}

}  // namespace btd::daemon
