#include "core/storage/file_io.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace fs = std::filesystem;

namespace btd {

void pwrite_all(const OpenFile& f, const std::uint8_t* data, std::size_t n, std::int64_t pos,
                const fs::path& name) {
    while (n > 0) {
        ssize_t w = ::pwrite(f.fd, data, n, pos);
        if (w < 0 && errno == EINTR) continue;
        int err = w < 0 ? errno : EIO;
        if (w <= 0) throw StorageError(os_error_message("write to", name, err), err);
        data += w;
        n -= static_cast<std::size_t>(w);
        pos += w;
    }
}

void pread_all(const OpenFile& f, std::uint8_t* data, std::size_t n, std::int64_t pos,
               const fs::path& name) {
    while (n > 0) {
        ssize_t r = ::pread(f.fd, data, n, pos);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw StorageError(os_error_message("read from", name, errno));
        if (r == 0)
            throw StorageError("cannot read from '" + name.string() +
                               "': the file is shorter than the torrent says");
        data += r;
        n -= static_cast<std::size_t>(r);
        pos += r;
    }
}

FileIdentity fstat_identity(const OpenFile& f) {
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return {};
    return identity_of(st);
}

}  // namespace btd
