#pragma once
// Streams downloaded data to disk and out of the page cache, a bounded window behind the writes.
//
// Without it every written byte stays dirty in the page cache until the kernel's own write-back
// runs, and a long download fills the cache with pages nobody reads soon: each new write then
// needs a fresh page (on a VM whose host reclaims freed guest memory, that is a host page fault
// per page: 1 MiB pwrites ran at 120-530 MiB/s instead of 1-1.6 GiB/s here), and the kernel
// throttles the writer in bursts when dirty pages pile up. With it, each write starts its
// write-back at once (sync_file_range WRITE, asynchronous), and once more than `window` bytes
// were written after a range, that range is dropped from the cache (POSIX_FADV_DONTNEED, which
// frees the pages already written back), so cache pages are recycled while still warm and
// dirty memory stays small when the disk keeps up. Nothing waits for the disk here. The
// newest `window` bytes stay cached for peers that ask for fresh pieces.
//
// Thread-safe (disk pool threads). File systems without sync_file_range (it fails with EINVAL,
// ESPIPE, ENOSYS or EOPNOTSUPP) switch it off for good: writes then behave as before.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/storage/file_cache.hpp"

namespace btd {

class WriteBehind {
  public:
    static constexpr std::int64_t kDefaultWindow = 32 * 1024 * 1024;

    explicit WriteBehind(std::int64_t window = kDefaultWindow) : window_(window) {}

    // After `length` bytes were written at `offset` of `file` (an index the caller names
    // errors with) through `handle`. Throws StorageError, naming the file via `name`, if the
    // kernel refuses to start the write-back (write-back errors themselves surface at the next
    // fsync, Storage::flush, as before).
    void wrote(int file, std::shared_ptr<OpenFile> handle, std::int64_t offset, std::int64_t length,
               const std::function<std::string(int)>& name);
    // Drops every pending range without waiting (files closed, deleted or to be re-checked).
    void clear();
    bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
    std::int64_t pending_bytes();

  private:
    struct Range {
        int file = 0;
        std::shared_ptr<OpenFile> handle;
        std::int64_t offset = 0;
        std::int64_t length = 0;
    };
    // False (and write-behind off) if the file system does not support sync_file_range.
    bool start_writeback(const Range& r, const std::function<std::string(int)>& name);
    static void finish(const Range& r);

    const std::int64_t window_;
    std::atomic<bool> enabled_{true};
    std::mutex mutex_;
    std::deque<Range> ranges_;
    std::int64_t bytes_ = 0;
};

}  // namespace btd
