// load_metainfo_file: bounded, careful read of a .torrent from disk.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/metainfo/metainfo.hpp"

namespace btd {

namespace {

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

[[noreturn]] void fail_errno(const std::filesystem::path& file, const char* action, int err) {
    throw MetainfoError(std::string("cannot ") + action + " torrent file '" + file.string() +
                        "': " + std::strerror(err));
}

}  // namespace

Metainfo load_metainfo_file(const std::filesystem::path& file) {
    // O_NONBLOCK: opening a FIFO must not hang; the type is checked right after.
    FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) fail_errno(file, "open", errno);

    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail_errno(file, "stat", errno);
    if (!S_ISREG(st.st_mode))
        throw MetainfoError("torrent file '" + file.string() + "' is not a regular file");
    if (st.st_size > kMaxTorrentFileBytes)
        throw MetainfoError("torrent file '" + file.string() + "' is too large (" +
                            std::to_string(st.st_size) + " bytes, limit " +
                            std::to_string(kMaxTorrentFileBytes) + ")");

    // Read until EOF but never past the limit, in case the file grows while we read.
    std::string data;
    data.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t used = 0;
    while (true) {
        if (used == data.size()) {
            if (data.size() > static_cast<std::size_t>(kMaxTorrentFileBytes))
                throw MetainfoError("torrent file '" + file.string() + "' is too large (limit " +
                                    std::to_string(kMaxTorrentFileBytes) + " bytes)");
            data.resize(std::min<std::size_t>(data.size() * 2,
                                              static_cast<std::size_t>(kMaxTorrentFileBytes) + 1));
        }
        const ssize_t n = ::read(fd.get(), data.data() + used, data.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(file, "read", errno);
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    data.resize(used);

    try {
        return parse_metainfo(data);
    } catch (const MetainfoError& e) {
        throw MetainfoError("torrent file '" + file.string() + "': " + e.what());
    }
}

}  // namespace btd
