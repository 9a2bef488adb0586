#include "core/storage/file_stat.hpp"

#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace btd {

FileIdentity identity_of(const struct stat& st) {
    FileIdentity id;
    if (!S_ISREG(st.st_mode)) return id;
    id.size = static_cast<std::int64_t>(st.st_size);
    id.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec);
    id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_nsec);
    id.device = static_cast<std::uint64_t>(st.st_dev);
    id.inode = static_cast<std::uint64_t>(st.st_ino);
    id.link_count = static_cast<std::uint32_t>(st.st_nlink);
    return id;
}

std::string describe_change(const std::optional<FileIdentity>& known, const FileIdentity& now,
                            bool compare_contents) {
    if (!known) return {};
    if (!now.exists()) return "was deleted";
    if (!now.same_file(*known)) return "was replaced by another file";
    if (now.link_count == 0) return "was deleted";  // seen through a descriptor still open
    if (compare_contents && !now.unchanged_since(*known))
        return "was modified (its size or modification time changed)";
    return {};
}

FileIdentity stat_file(const std::filesystem::path& dir, const std::filesystem::path& rel) {
    struct stat st {};
    if (::lstat((dir / rel).c_str(), &st) != 0) return {};
    return identity_of(st);
}

std::vector<FileIdentity> stat_files(const Metainfo& meta, const std::filesystem::path& dir) {
    std::vector<FileIdentity> out(meta.files.size());
    for (std::size_t i = 0; i < meta.files.size(); ++i) {
        if (meta.files[i].pad) continue;
        try {
            out[i] = stat_file(dir, checked_relative_path(dir, meta.files[i].path));
        } catch (const StorageError&) {
            continue;
        }
    }
    return out;
}

}  // namespace btd
