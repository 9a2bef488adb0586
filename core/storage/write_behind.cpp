#include "core/storage/write_behind.hpp"

#include <fcntl.h>

#include <cerrno>
#include <vector>

#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace btd {

namespace {

bool unsupported(int err) {
    return err == EINVAL || err == ESPIPE || err == ENOSYS || err == EOPNOTSUPP;
}

int sync_range(int fd, std::int64_t offset, std::int64_t length, unsigned flags) {
    int rc;
    do {
        rc = ::sync_file_range(fd, offset, length, flags);
    } while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : errno;
}

}  // namespace

void WriteBehind::wrote(int file, std::shared_ptr<OpenFile> handle, std::int64_t offset,
                        std::int64_t length, const std::function<std::string(int)>& name) {
    if (!enabled() || length <= 0) return;
    Range r{file, std::move(handle), offset, length};
    if (!start_writeback(r, name)) return;
    std::vector<Range> due;  // dropped outside the lock: other writers keep going
    {
        std::lock_guard lock(mutex_);
        bytes_ += r.length;
        ranges_.push_back(std::move(r));
        while (bytes_ > window_ && !ranges_.empty()) {
            bytes_ -= ranges_.front().length;
            due.push_back(std::move(ranges_.front()));
            ranges_.pop_front();
        }
    }
    for (const auto& d : due) finish(d);
}

bool WriteBehind::start_writeback(const Range& r, const std::function<std::string(int)>& name) {
    int err = sync_range(r.handle->fd, r.offset, r.length, SYNC_FILE_RANGE_WRITE);
    if (err == 0) return true;
    if (unsupported(err)) {
        enabled_ = false;
        clear();
        return false;
    }
    throw StorageError(os_error_message("write back", name(r.file), err), err);
}

void WriteBehind::finish(const Range& r) {
    // Never waits: pages whose write-back has not completed yet are not dropped (DONTNEED
    // skips dirty and in-flight pages) and the kernel evicts them later as it always does.
    // Waiting here would stall the pool (and, through the piece-buffer budget, the download)
    // whenever the disk is busy; the kernel's own dirty limits still throttle a slow disk.
    ::posix_fadvise(r.handle->fd, r.offset, r.length, POSIX_FADV_DONTNEED);
}

void WriteBehind::clear() {
    std::deque<Range> dropped;  // handles released after unlocking
    std::lock_guard lock(mutex_);
    dropped.swap(ranges_);
    bytes_ = 0;
}

std::int64_t WriteBehind::pending_bytes() {
    std::lock_guard lock(mutex_);
    return bytes_;
}

}  // namespace btd
