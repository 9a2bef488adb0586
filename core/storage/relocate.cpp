#include "core/storage/relocate.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "core/storage/part_store.hpp"
#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace btd {

namespace fs = std::filesystem;

namespace {

// Closes a descriptor when it goes out of scope.
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

[[noreturn]] void fail(const std::string& what, const fs::path& path, int err) {
    throw StorageError(os_error_message(what, path, err), err);
}

// What kind of entry dir/rel is, without following a symlink: 0 if absent.
mode_t kind_of(const fs::path& dir, const fs::path& rel) {
    Fd parent(open_dir_nofollow(dir, rel.parent_path(), false));
    struct stat st {};
    if (parent.fd < 0 ||
        ::fstatat(parent.fd, rel.filename().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return 0;
    return st.st_mode & S_IFMT;
}

bool same_file_system(const fs::path& a, const fs::path& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev;
}

void rename_one(const fs::path& from, const fs::path& to, const fs::path& rel) {
    Fd src(open_dir_nofollow(from, rel.parent_path(), false));
    if (src.fd < 0) fail("open the folder of", from / rel, errno);
    Fd dst(open_dir_nofollow(to, rel.parent_path(), true));
    if (dst.fd < 0) fail("create the folder of", to / rel, errno);
    if (::renameat(src.fd, rel.filename().c_str(), dst.fd, rel.filename().c_str()) != 0)
        fail("move", from / rel, errno);
}

void copy_file(const fs::path& from, const fs::path& to, const fs::path& rel) {
    Fd in(open_file_nofollow(from, rel, O_RDONLY, false));
    if (in.fd < 0) fail("open", from / rel, errno);
    Fd out(open_file_nofollow(to, rel, O_WRONLY | O_CREAT | O_TRUNC, true));
    if (out.fd < 0) fail("create", to / rel, errno);
    std::vector<char> buffer(1 << 20);
    for (;;) {
        ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("read", from / rel, errno);
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(out.fd, buffer.data() + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) fail("write", to / rel, errno);
            done += w;
        }
    }
    if (::fsync(out.fd) != 0) fail("sync", to / rel, errno);
}

// A directory entry (the part store) is copied file by file, one level deep.
std::vector<fs::path> expand(const fs::path& from, const fs::path& rel) {
    if (kind_of(from, rel) != S_IFDIR) return {rel};
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(from / rel, ec))
        if (e.is_regular_file(ec) && !e.is_symlink(ec)) out.push_back(rel / e.path().filename());
    return out;
}

// Empty directories btd made under `dir` for these paths, deepest first (others are kept).
void remove_empty_dirs(const fs::path& dir, const std::vector<fs::path>& rels) {
    std::set<fs::path> dirs;
    for (const auto& rel : rels)
        for (fs::path d = rel.parent_path(); !d.empty(); d = d.parent_path()) dirs.insert(d);
    std::vector<fs::path> ordered(dirs.begin(), dirs.end());
    auto depth = [](const fs::path& p) { return std::distance(p.begin(), p.end()); };
    std::stable_sort(ordered.begin(), ordered.end(),
                     [&](const fs::path& a, const fs::path& b) { return depth(a) > depth(b); });
    for (const auto& d : ordered) unlink_nofollow(dir, d, true);
}

void rename_all(const fs::path& from, const fs::path& to, const std::vector<fs::path>& rels) {
    std::vector<fs::path> done;
    try {
        for (const auto& rel : rels) {
            rename_one(from, to, rel);
            done.push_back(rel);
        }
    } catch (...) {
        for (const auto& rel : done) {
            try {
                rename_one(to, from, rel);
            } catch (...) {  // the first error is the one to report
            }
        }
        remove_empty_dirs(to, done);
        throw;
    }
}

void copy_all(const fs::path& from, const fs::path& to, const std::vector<fs::path>& rels) {
    std::vector<fs::path> files;
    for (const auto& rel : rels)
        for (auto& f : expand(from, rel)) files.push_back(std::move(f));
    std::vector<fs::path> copied;
    try {
        for (const auto& f : files) {
            copied.push_back(f);
            copy_file(from, to, f);
        }
    } catch (...) {
        for (const auto& f : copied) unlink_nofollow(to, f, false);
        remove_empty_dirs(to, copied);
        throw;
    }
    // Every copy is whole and synced: only now may the originals go.
    for (const auto& f : files) unlink_nofollow(from, f, false);
    remove_empty_dirs(from, files);
    for (const auto& rel : rels)
        if (kind_of(from, rel) == S_IFDIR) unlink_nofollow(from, rel, true);
}

}  // namespace

std::vector<fs::path> data_paths(const Metainfo& meta) {
    std::vector<fs::path> out;
    for (const auto& f : meta.files)
        if (!f.pad && f.length > 0) out.push_back(f.path.lexically_normal());
    out.emplace_back(PartStore::dir_name(meta.info_hash));
    return out;
}

void move_torrent_data(const Metainfo& meta, const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_directories(to, ec);
    if (ec || !fs::is_directory(to)) fail("create", to, ec ? ec.value() : ENOTDIR);
    if (fs::equivalent(from, to, ec)) return;
    std::vector<fs::path> present;
    for (auto& rel : data_paths(meta)) {
        checked_relative_path(from, rel);  // throws for a path leaving the directory
        mode_t kind = kind_of(from, rel);
        if (kind == S_IFREG || kind == S_IFDIR) present.push_back(std::move(rel));
    }
    if (same_file_system(from, to)) {
        rename_all(from, to, present);
        remove_empty_dirs(from, present);
    } else {
        copy_all(from, to, present);
    }
}

}  // namespace btd
