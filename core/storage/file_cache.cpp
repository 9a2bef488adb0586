#include "core/storage/file_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace btd {

OpenFile::~OpenFile() {
    ::close(fd);
}

FileCache::FileCache(std::filesystem::path dir, std::vector<std::filesystem::path> relative,
                     std::size_t max_open)
    : dir_(std::move(dir)),
      relative_(std::move(relative)),
      max_open_(std::max<std::size_t>(1, max_open)) {}

std::shared_ptr<OpenFile> FileCache::get(int file, bool write) {
    {
        std::lock_guard lock(mutex_);
        auto it = open_.find(file);
        if (it != open_.end() && (!write || it->second.file->writable)) {
            it->second.last_use = ++clock_;
            return it->second.file;
        }
    }
    // Open outside the lock: it may create directories and hit a slow disk.
    int fd =
        open_file_nofollow(dir_, relative_[file], write ? (O_RDWR | O_CREAT) : O_RDONLY, write);
    if (fd < 0) throw StorageError(os_error_message("open", full_path(file), errno), errno);
    auto handle = std::make_shared<OpenFile>(fd, write);

    std::vector<Entry> evicted;  // destroyed after unlocking
    std::lock_guard lock(mutex_);
    auto& slot = open_[file];
    if (slot.file && (!write || slot.file->writable)) {
        handle = slot.file;  // another thread won the race; ours closes on return
    } else {
        if (slot.file) {
            if (slot.file->dirty) unsynced_closed_.insert(file);
            evicted.push_back(std::exchange(slot, Entry{}));
        }
        slot.file = handle;
    }
    slot.last_use = ++clock_;
    while (open_.size() > max_open_) {
        auto oldest = open_.begin();
        for (auto it = open_.begin(); it != open_.end(); ++it)
            if (it->second.last_use < oldest->second.last_use) oldest = it;
        if (oldest->second.file->dirty) unsynced_closed_.insert(oldest->first);
        evicted.push_back(std::move(oldest->second));
        open_.erase(oldest);
    }
    return handle;
}

void FileCache::flush() {
    std::vector<std::pair<int, std::shared_ptr<OpenFile>>> to_sync;
    std::set<int> closed;
    {
        std::lock_guard lock(mutex_);
        for (auto& [index, entry] : open_)
            if (entry.file->dirty.exchange(false)) to_sync.emplace_back(index, entry.file);
        closed.swap(unsynced_closed_);
    }
    for (const auto& [index, f] : to_sync)
        if (::fsync(f->fd) != 0) {
            f->dirty = true;
            throw StorageError(os_error_message("sync", full_path(index), errno));
        }
    for (int index : closed) {
        int fd = open_file_nofollow(dir_, relative_[index], O_RDONLY, false);
        if (fd < 0) continue;  // deleted meanwhile: nothing left to make durable
        int rc = ::fsync(fd);
        int err = errno;
        ::close(fd);
        if (rc != 0) throw StorageError(os_error_message("sync", full_path(index), err));
    }
}

void FileCache::close_all() {
    std::unordered_map<int, Entry> dropped;
    std::lock_guard lock(mutex_);
    for (auto& [index, entry] : open_)
        if (entry.file->dirty) unsynced_closed_.insert(index);
    dropped.swap(open_);
}

void FileCache::forget_unsynced() {
    std::lock_guard lock(mutex_);
    unsynced_closed_.clear();
}

FileCache::Snapshot FileCache::snapshot(int file) {
    std::lock_guard lock(mutex_);
    auto it = records_.find(file);
    return it == records_.end() ? Snapshot{} : it->second;
}

std::string FileCache::begin_write(int file, const OpenFile& handle) {
    std::lock_guard lock(mutex_);
    auto& r = records_[file];
    std::string reason;
    struct stat st {};
    if (r.known && ::fstat(handle.fd, &st) == 0)
        reason = describe_change(r.known, identity_of(st), r.writing == 0);
    ++r.writes;
    ++r.writing;
    return reason;
}

void FileCache::end_write(int file, const OpenFile* written) {
    std::lock_guard lock(mutex_);
    auto& r = records_[file];
    --r.writing;
    struct stat st {};
    if (!written || ::fstat(written->fd, &st) != 0) return;
    FileIdentity now = identity_of(st);
    if (now.exists() && now.link_count > 0) r.known = now;  // never a deleted file's inode
}

void FileCache::record(int file, const FileIdentity& now) {
    std::lock_guard lock(mutex_);
    records_[file].known = now;
}

void FileCache::forget(int file) {
    std::shared_ptr<OpenFile> dropped;  // closed after unlocking
    std::lock_guard lock(mutex_);
    auto it = open_.find(file);
    if (it != open_.end()) {
        if (it->second.file->dirty) unsynced_closed_.insert(file);
        dropped = std::move(it->second.file);
        open_.erase(it);
    }
    auto r = records_.find(file);
    if (r != records_.end()) r->second.known.reset();
}

}  // namespace btd
