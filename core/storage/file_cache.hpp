#pragma once
// Bounded cache of open file descriptors for one torrent, shared by the disk pool threads.
// Handles are reference-counted, so evicting one while another thread is mid-pread is safe: the
// descriptor is closed when the last user lets go.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/storage/file_stat.hpp"

namespace btd {

struct OpenFile {
    OpenFile(int fd, bool writable) : fd(fd), writable(writable) {}
    ~OpenFile();
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    const int fd;
    const bool writable;
    std::atomic<bool> dirty{false};  // written since the last fsync
};

class FileCache {
  public:
    // `relative` are checked paths under `dir`, indexed like the torrent's files.
    FileCache(std::filesystem::path dir, std::vector<std::filesystem::path> relative,
              std::size_t max_open);

    // An open handle; with `write`, read-write and created (with parent dirs) if missing.
    // Throws StorageError naming the file.
    std::shared_ptr<OpenFile> get(int file, bool write);
    void flush();      // fsync every file written since the last flush, open or evicted
    void close_all();  // evicted-but-unsynced files stay remembered for flush()
    void forget_unsynced();

    std::filesystem::path full_path(int file) const { return dir_ / relative_[file]; }

    // What btd last knew a file to be (after its own write, or when it hashed the file), and
    // whether its own writes ran meanwhile: a change seen while `quiet_between` two snapshots
    // is not ours. A write is bracketed by begin_write() and end_write().
    struct Snapshot {
        std::optional<FileIdentity> known;
        std::uint64_t writes = 0;  // writes begun so far
        int writing = 0;           // writes in progress
    };
    Snapshot snapshot(int file);
    static bool quiet_between(const Snapshot& before, const Snapshot& after) {
        return before.writes == after.writes && before.writing == 0 && after.writing == 0;
    }
    // Returns why the open file is no longer the one recorded ("" if it is). With no other
    // write in progress, size and modification time count too (compared under the lock).
    std::string begin_write(int file, const OpenFile& handle);
    // With `written`, records the file as it is now (fstat under the lock, so the last writer to
    // finish records what every finished write left); without, keeps the record.
    void end_write(int file, const OpenFile* written);
    void record(int file, const FileIdentity& now);
    // Closes the file's cached descriptor (users finish with theirs) and drops its record.
    void forget(int file);

  private:
    struct Entry {
        std::shared_ptr<OpenFile> file;
        std::uint64_t last_use = 0;
    };

    std::filesystem::path dir_;
    std::vector<std::filesystem::path> relative_;
    std::size_t max_open_;
    std::mutex mutex_;
    std::unordered_map<int, Entry> open_;
    std::set<int> unsynced_closed_;  // written files that were closed before a flush
    std::unordered_map<int, Snapshot> records_;
    std::uint64_t clock_ = 0;
};

}  // namespace btd
