#include "core/storage/file_stat.hpp"

#include <sys/stat.h>

#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace btd {

std::vector<ResumeFileInfo> stat_files(const Metainfo& meta, const std::filesystem::path& dir) {
    std::vector<ResumeFileInfo> out(meta.files.size());
    for (std::size_t i = 0; i < meta.files.size(); ++i) {
        if (meta.files[i].pad) continue;
        std::filesystem::path rel;
        try {
            rel = checked_relative_path(dir, meta.files[i].path);
        } catch (const StorageError&) {
            continue;
        }
        struct stat st {};
        if (::lstat((dir / rel).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        out[i].size = static_cast<std::int64_t>(st.st_size);
        out[i].mtime = static_cast<std::int64_t>(st.st_mtime);
    }
    return out;
}

}  // namespace btd
