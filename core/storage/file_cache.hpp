#pragma once
// Bounded cache of open file descriptors for one torrent, shared by the disk pool threads.
// Handles are reference-counted, so evicting one while another thread is mid-pread is safe: the
// descriptor is closed when the last user lets go.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

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
    std::uint64_t clock_ = 0;
};

}  // namespace btd
