// load_metainfo_file, load_magnet_file: bounded, careful reads of a .torrent or .magnet file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cctype>

#include "core/metainfo/magnet.hpp"
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

[[noreturn]] void fail_errno(const std::filesystem::path& file, const char* action, int err,
                             const std::string& what) {
    throw MetainfoError(std::string("cannot ") + action + " " + what + " '" + file.string() +
                        "': " + std::strerror(err));
}

}  // namespace

namespace {

// The whole file, read without following it past `limit` bytes; `what` names it in errors.
std::string read_limited(const std::filesystem::path& file, std::int64_t limit,
                         const std::string& what) {
    // O_NONBLOCK: opening a FIFO must not hang; the type is checked right after.
    FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) fail_errno(file, "open", errno, what);

    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail_errno(file, "stat", errno, what);
    if (!S_ISREG(st.st_mode))
        throw MetainfoError(what + " '" + file.string() + "' is not a regular file");
    if (st.st_size > limit)
        throw MetainfoError(what + " '" + file.string() + "' is too large (" +
                            std::to_string(st.st_size) + " bytes, limit " + std::to_string(limit) +
                            ")");

    // Read until EOF but never past the limit, in case the file grows while we read.
    std::string data;
    data.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t used = 0;
    while (true) {
        if (used == data.size()) {
            if (data.size() > static_cast<std::size_t>(limit))
                throw MetainfoError(what + " '" + file.string() + "' is too large (limit " +
                                    std::to_string(limit) + " bytes)");
            data.resize(
                std::min<std::size_t>(data.size() * 2, static_cast<std::size_t>(limit) + 1));
        }
        const ssize_t n = ::read(fd.get(), data.data() + used, data.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(file, "read", errno, what);
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    data.resize(used);
    return data;
}

}  // namespace

Metainfo load_metainfo_file(const std::filesystem::path& file) {
    auto data = read_limited(file, kMaxTorrentFileBytes, "torrent file");
    try {
        return parse_metainfo(data);
    } catch (const MetainfoError& e) {
        throw MetainfoError("torrent file '" + file.string() + "': " + e.what());
    }
}

bool is_magnet_file(const std::filesystem::path& file) {
    auto ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".magnet";
}

MagnetLink load_magnet_file(const std::filesystem::path& file) {
    auto text =
        read_limited(file, static_cast<std::int64_t>(kMaxMagnetLength) + 4096, "magnet file");
    auto begin = text.find_first_not_of(" \t\r\n");
    auto end = text.find_last_not_of(" \t\r\n");
    if (begin == std::string::npos)
        throw MetainfoError("magnet file '" + file.string() + "' is empty");
    try {
        return parse_magnet(std::string_view(text).substr(begin, end - begin + 1));
    } catch (const MetainfoError& e) {
        throw MetainfoError("magnet file '" + file.string() + "': " + e.what());
    }
}

}  // namespace btd
