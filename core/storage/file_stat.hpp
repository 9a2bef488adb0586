#pragma once
// What a torrent's file on disk is: which inode, how long, last modified when. Used to decide
// on restart whether resume data still matches what is on disk (unchanged files are not
// re-hashed) and, while running, to notice a file deleted, replaced or changed behind our back.
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/metainfo/metainfo.hpp"

namespace btd {

struct FileIdentity {
    std::int64_t size = -1;        // -1: missing, not a regular file, or a pad file (never on disk)
    std::int64_t mtime = 0;        // seconds since the epoch; 0 when size is -1
    std::int64_t mtime_ns = 0;     // nanoseconds within that second
    std::uint64_t device = 0;      // st_dev; may differ across reboots, so never saved
    std::uint64_t inode = 0;       // st_ino; 0 when size is -1
    std::uint32_t link_count = 0;  // 0 for an open file that was deleted

    bool exists() const { return size >= 0; }
    // Same inode on the same device: the path still names the file we knew.
    bool same_file(const FileIdentity& o) const { return device == o.device && inode == o.inode; }
    // Same file, same size, same modification time: nobody wrote to it since.
    bool unchanged_since(const FileIdentity& o) const {
        return same_file(o) && size == o.size && mtime == o.mtime && mtime_ns == o.mtime_ns;
    }
    bool operator==(const FileIdentity&) const = default;
};
using ResumeFileInfo = FileIdentity;

FileIdentity identity_of(const struct stat& st);  // size -1 unless a regular file

// Why `now` is not (or no longer holds) the file btd knew as `known`, as the end of a sentence
// ("was deleted"), or "" when nothing is wrong or nothing was known. Size and modification time
// count only with `compare_contents` (not while btd itself may be writing the file).
std::string describe_change(const std::optional<FileIdentity>& known, const FileIdentity& now,
                            bool compare_contents);

// The identity of dir/rel without following a symlink at the file itself; missing (size -1) on
// any error. Never throws.
FileIdentity stat_file(const std::filesystem::path& dir, const std::filesystem::path& rel);

// One entry per metainfo file, in order. Does not follow a symlink at the file itself (like
// Storage) and reports paths escaping `dir` as missing. Never throws for I/O errors.
std::vector<FileIdentity> stat_files(const Metainfo& meta, const std::filesystem::path& dir);

}  // namespace btd
