#pragma once
// `btd --download FILE.torrent`: download one torrent in the foreground and exit when complete.
#include <cstdint>
#include <filesystem>

namespace btd {

struct DownloadModeOptions {
    std::filesystem::path torrent_file;
    std::filesystem::path download_dir = ".";
    std::uint16_t listen_port = 6881;
    unsigned timeout_s = 0;  // 0 = no timeout
};

// Returns the process exit code: 0 when every piece is verified and written.
int run_download_mode(const DownloadModeOptions& options);

}  // namespace btd
