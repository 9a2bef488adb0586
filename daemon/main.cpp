// btd: the BitTorrent download daemon. Everything testable lives in the btd_daemon library.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/util/hash.hpp"
#include "core/util/open_file_limit.hpp"
#include "daemon/command_line.hpp"
#include "daemon/daemon.hpp"
#include "daemon/download_mode.hpp"

int main(int argc, char** argv) {
    spdlog::set_default_logger(spdlog::stderr_color_mt("btd"));
    btd::daemon::CommandLine cl;
    try {
        cl = btd::daemon::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const btd::daemon::UsageError& e) {
        std::fprintf(stderr, "btd: %s (try btd --help)\n", e.what());
        return 2;
    }
    if (cl.overrides.log_level) spdlog::set_level(*cl.overrides.log_level);
    // Peers, files and the RPC all need descriptors; the session keeps a reserve of this limit.
    if (auto limit = btd::raise_open_file_limit())
        spdlog::debug("open file limit: {} (hard {})", limit->soft, limit->hard);
    switch (cl.mode) {
        case btd::daemon::CommandLine::Mode::help:
            std::fputs(btd::daemon::usage_text().c_str(), stdout);
            return 0;
        case btd::daemon::CommandLine::Mode::version:
            std::printf("%s %s\n", std::string(btd::kClientName).c_str(),
                        std::string(btd::kClientVersion).c_str());
            return 0;
        case btd::daemon::CommandLine::Mode::download:
            return btd::run_download_mode(cl.download);
        case btd::daemon::CommandLine::Mode::daemon:
            break;
    }
    return btd::daemon::run_daemon({cl.config_file, cl.overrides});
}
