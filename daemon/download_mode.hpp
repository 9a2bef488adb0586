#pragma once
// `btd --download FILE.torrent`: download one torrent in the foreground and exit when complete.
#include <cstdint>
#include <filesystem>

namespace btd {

struct DownloadModeOptions {
    std::filesystem::path torrent_file;
    std::filesystem::path download_dir = ".";
    std::uint16_t listen_port = 6881;
    unsigned timeout_s = 0;                // 0 = no timeout
    bool seed = false;                     // keep seeding after completion until SIGINT/SIGTERM
    std::int64_t download_rate_limit = 0;  // bytes/s, 0 = unlimited
    std::int64_t upload_rate_limit = 0;
};

// Returns the process exit code: 0 when every piece is verified and written (with `seed`:
// when stopped by a signal after completing).
int run_download_mode(const DownloadModeOptions& options);

}  // namespace btd
