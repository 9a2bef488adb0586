#include "core/storage/part_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace fs = std::filesystem;

namespace btd {

namespace {

// Closes the descriptor on every path out, keeping errno of the call that failed.
struct Fd {
    explicit Fd(int fd) : fd(fd) {}
    ~Fd() {
        if (fd >= 0) {
            int saved = errno;
            ::close(fd);
            errno = saved;
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int fd;
};

}  // namespace

PartStore::PartStore(fs::path download_dir, const Sha1Hash& info_hash)
    : dir_(std::move(download_dir)), rel_dir_(dir_name(info_hash)) {}

std::string PartStore::dir_name(const Sha1Hash& info_hash) {
    return ".btd." + to_hex(info_hash) + ".parts";
}

fs::path PartStore::piece_path(int piece) const {
    return rel_dir_ / std::to_string(piece);
}

void PartStore::write(int piece, std::int64_t offset, std::span<const std::uint8_t> data) {
    Fd f(open_file_nofollow(dir_, piece_path(piece), O_WRONLY | O_CREAT, true));
    if (f.fd < 0) throw StorageError(os_error_message("create", dir_ / piece_path(piece), errno));
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    while (n > 0) {
        ssize_t w = ::pwrite(f.fd, p, n, offset);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            throw StorageError(
                os_error_message("write to", dir_ / piece_path(piece), w < 0 ? errno : EIO));
        p += w;
        n -= static_cast<std::size_t>(w);
        offset += w;
    }
    index().insert(piece);
    unsynced_.insert(piece);
}

void PartStore::read(int piece, std::int64_t offset, std::span<std::uint8_t> out) const {
    Fd f(open_file_nofollow(dir_, piece_path(piece), O_RDONLY, false));
    if (f.fd < 0) throw StorageError(os_error_message("open", dir_ / piece_path(piece), errno));
    std::uint8_t* p = out.data();
    std::size_t n = out.size();
    while (n > 0) {
        ssize_t r = ::pread(f.fd, p, n, offset);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            throw StorageError(os_error_message("read from", dir_ / piece_path(piece), errno));
        if (r == 0)
            throw StorageError("cannot read from '" + (dir_ / piece_path(piece)).string() +
                               "': the part file is shorter than the piece data it should hold");
        p += r;
        n -= static_cast<std::size_t>(r);
        offset += r;
    }
}

std::set<int>& PartStore::index() {
    if (index_) return *index_;
    index_.emplace();
    std::error_code ec;
    fs::directory_iterator it(dir_ / rel_dir_, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        int piece = 0;
        auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), piece);
        if (err == std::errc() && end == name.data() + name.size() && piece >= 0)
            index_->insert(piece);
    }
    return *index_;
}

bool PartStore::has(int piece) {
    return index().count(piece) != 0;
}

std::vector<int> PartStore::pieces_in(int first, int last) {
    std::vector<int> out;
    auto& stored = index();
    for (auto it = stored.lower_bound(first); it != stored.end() && *it <= last; ++it)
        out.push_back(*it);
    return out;
}

void PartStore::remove(int piece) {
    index().erase(piece);
    unsynced_.erase(piece);
    if (unlink_nofollow(dir_, piece_path(piece), false) != 0 && errno != ENOENT)
        throw StorageError(os_error_message("delete", dir_ / piece_path(piece), errno));
    unlink_nofollow(dir_, rel_dir_, true);  // fails (and stays) while other pieces are in it
}

void PartStore::remove_all() {
    index_.emplace();
    unsynced_.clear();
    std::error_code ec;
    fs::directory_iterator it(dir_ / rel_dir_, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec))
        unlink_nofollow(dir_, rel_dir_ / it->path().filename(), false);
    if (unlink_nofollow(dir_, rel_dir_, true) != 0 && errno != ENOENT)
        throw StorageError(os_error_message("delete", path(), errno));
}

void PartStore::flush() {
    if (unsynced_.empty()) return;
    for (auto it = unsynced_.begin(); it != unsynced_.end(); it = unsynced_.erase(it)) {
        Fd f(open_file_nofollow(dir_, piece_path(*it), O_RDONLY, false));
        if (f.fd < 0) continue;  // removed meanwhile: nothing left to make durable
        if (::fsync(f.fd) != 0)
            throw StorageError(os_error_message("sync", dir_ / piece_path(*it), errno));
    }
    Fd d(open_dir_nofollow(dir_, rel_dir_, false));
    if (d.fd >= 0) ::fsync(d.fd);  // the new directory entries
}

}  // namespace btd
