#pragma once
// Size and modification time of a torrent's files, for deciding on restart whether resume data
// still matches what is on disk (unchanged files are not re-hashed).
#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/metainfo/metainfo.hpp"

namespace btd {

struct ResumeFileInfo {
    std::int64_t size = -1;  // -1: missing, not a regular file, or a pad file (never on disk)
    std::int64_t mtime = 0;  // seconds since the epoch; 0 when size is -1
    bool operator==(const ResumeFileInfo&) const = default;
};

// One entry per metainfo file, in order. Does not follow a symlink at the file itself (like
// Storage) and reports paths escaping `dir` as missing. Never throws for I/O errors.
std::vector<ResumeFileInfo> stat_files(const Metainfo& meta, const std::filesystem::path& dir);

}  // namespace btd
