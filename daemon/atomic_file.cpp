#include "daemon/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace btd::daemon {

namespace {

std::system_error os_error(const std::string& what, const std::filesystem::path& path) {
    return std::system_error(errno, std::generic_category(), what + " " + path.string());
}

}  // namespace

void sync_directory(const std::filesystem::path& dir) {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw os_error("cannot open directory", dir);
    int rc = ::fsync(fd);
    int saved = errno;
    ::close(fd);
    errno = saved;
    if (rc != 0) throw os_error("cannot sync directory", dir);
}

std::filesystem::path temp_path_for(const std::filesystem::path& file) {
    auto temp = file;
    temp += ".tmp";
    return temp;
}

void write_temp_file(const std::filesystem::path& temp, std::string_view bytes, mode_t mode,
                     bool sync_data) {
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) throw os_error("cannot create", temp);
    auto fail = [&](const char* what) {
        auto err = os_error(what, temp);
        ::close(fd);
        ::unlink(temp.c_str());
        return err;
    };
    std::size_t done = 0;
    while (done < bytes.size()) {
        auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw fail("cannot write");
        done += static_cast<std::size_t>(n);
    }
    // O_CREAT's mode is filtered by the umask and ignored for an existing temp file.
    if (::fchmod(fd, mode) != 0) throw fail("cannot set permissions of");
    if (sync_data && ::fsync(fd) != 0) throw fail("cannot sync");
    if (::close(fd) != 0) {
        auto err = os_error("cannot close", temp);
        ::unlink(temp.c_str());
        throw err;
    }
}

void write_file_atomic(const std::filesystem::path& file, std::string_view bytes, mode_t mode) {
    auto temp = temp_path_for(file);
    write_temp_file(temp, bytes, mode, true);
    if (::rename(temp.c_str(), file.c_str()) != 0) {
        auto err = os_error("cannot rename temp file to", file);
        ::unlink(temp.c_str());
        throw err;
    }
    sync_directory(file.parent_path());
}

std::string read_file_limited(const std::filesystem::path& file, std::size_t max_bytes) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw os_error("cannot open", file);
    std::string out;
    char buf[65536];
    while (true) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto err = os_error("cannot read", file);
            ::close(fd);
            throw err;
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
            ::close(fd);
            throw std::runtime_error(file.string() + " is larger than " +
                                     std::to_string(max_bytes) + " bytes");
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

void remove_file_durably(const std::filesystem::path& file) {
    if (::unlink(file.c_str()) != 0) {
        if (errno == ENOENT) return;
        throw os_error("cannot remove", file);
    }
    sync_directory(file.parent_path());
}

}  // namespace btd::daemon
