#include "core/storage/safe_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "core/storage/storage.hpp"

namespace fs = std::filesystem;

namespace btd {

namespace {

// close() that keeps the errno of the failure being reported.
void close_keep_errno(int fd) {
    int saved = errno;
    ::close(fd);
    errno = saved;
}

fs::path normal_dir(const fs::path& dir) {
    fs::path n = dir.lexically_normal();
    if (!n.has_filename() && n != n.root_path()) n = n.parent_path();  // "a/b/" -> "a/b"
    return n;
}

}  // namespace

fs::path checked_relative_path(const fs::path& dir, const fs::path& entry) {
    const fs::path root = normal_dir(dir);
    const fs::path full = (root / entry).lexically_normal();
    const fs::path rel = full.lexically_relative(root);
    bool ok = !rel.empty() && rel.is_relative() && rel.has_filename();
    for (const auto& part : rel)
        if (part.empty() || part == "." || part == "..") ok = false;
    if (!ok)
        throw StorageError("refusing file path '" + entry.string() +
                           "': it does not stay inside the download directory '" + dir.string() +
                           "'");
    return rel;
}

int open_dir_nofollow(const fs::path& dir, const fs::path& rel_dir, bool create) {
    if (create) {
        std::error_code ec;
        fs::create_directories(dir, ec);  // the download dir itself; errors show up in open()
    }
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    for (const auto& part : rel_dir) {
        if (part.empty()) continue;
        const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        int next = ::openat(fd, part.c_str(), flags);
        if (next < 0 && errno == ENOENT && create) {
            if (::mkdirat(fd, part.c_str(), 0755) == 0 || errno == EEXIST)
                next = ::openat(fd, part.c_str(), flags);
        }
        close_keep_errno(fd);
        if (next < 0) return -1;
        fd = next;
    }
    return fd;
}

int open_file_nofollow(const fs::path& dir, const fs::path& rel, int flags, bool create_dirs) {
    int parent = open_dir_nofollow(dir, rel.parent_path(), create_dirs);
    if (parent < 0) return -1;
    int fd = ::openat(parent, rel.filename().c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0644);
    close_keep_errno(parent);
    return fd;
}

int unlink_nofollow(const fs::path& dir, const fs::path& rel, bool is_directory) {
    int parent = open_dir_nofollow(dir, rel.parent_path(), false);
    if (parent < 0) return -1;
    int rc = ::unlinkat(parent, rel.filename().c_str(), is_directory ? AT_REMOVEDIR : 0);
    close_keep_errno(parent);
    return rc;
}

std::string os_error_message(const std::string& what, const fs::path& path, int err) {
    std::string reason = err == ELOOP ? "a symbolic link is in the way (refused to follow it)"
                                      : std::error_code(err, std::generic_category()).message();
    return "cannot " + what + " '" + path.string() + "': " + reason;
}

std::vector<fs::path> checked_file_paths(const Metainfo& meta, const fs::path& dir) {
    std::vector<fs::path> out;
    out.reserve(meta.files.size());
    std::int64_t expected_offset = 0;
    for (const auto& f : meta.files) {
        if (f.offset != expected_offset || f.length < 0)
            throw StorageError("file layout of '" + meta.name + "' is inconsistent at '" +
                               f.path.string() + "'");
        expected_offset += f.length;
        out.push_back(f.pad ? fs::path() : checked_relative_path(dir, f.path));
    }
    if (expected_offset != meta.total_size)
        throw StorageError("file sizes of '" + meta.name + "' do not add up to its total size");
    return out;
}

}  // namespace btd
