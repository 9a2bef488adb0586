// btd: the BitTorrent download daemon.
#include <spdlog/cfg/helpers.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "daemon/download_mode.hpp"

namespace {

void usage(std::FILE* out) {
    std::fprintf(out,
                 "usage: btd --download FILE.torrent [--download-dir DIR] [--listen-port PORT]\n"
                 "           [--timeout SECONDS] [--log-level LEVEL]\n");
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_default_logger(spdlog::stderr_color_mt("btd"));
    btd::DownloadModeOptions options;
    bool download = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "btd: %s needs a value\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        try {
            if (arg == "--download") {
                download = true;
                options.torrent_file = value();
            } else if (arg == "--download-dir") {
                options.download_dir = value();
            } else if (arg == "--listen-port") {
                options.listen_port = static_cast<std::uint16_t>(std::stoul(value()));
            } else if (arg == "--timeout") {
                options.timeout_s = static_cast<unsigned>(std::stoul(value()));
            } else if (arg == "--log-level") {
                auto level = spdlog::level::from_str(value());
                spdlog::set_level(level);
            } else if (arg == "--help" || arg == "-h") {
                usage(stdout);
                return 0;
            } else {
                std::fprintf(stderr, "btd: unknown argument %s\n", argv[i]);
                usage(stderr);
                return 2;
            }
        } catch (const std::exception&) {
            std::fprintf(stderr, "btd: invalid value for %s\n", argv[i - 1]);
            return 2;
        }
    }
    if (!download) {
        usage(stderr);
        return 2;
    }
    return btd::run_download_mode(options);
}
