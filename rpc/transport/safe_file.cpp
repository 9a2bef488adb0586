#include "rpc/transport/safe_file.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace btd::rpc {
namespace {

namespace fs = std::filesystem;
using Kind = StateFileError::Kind;

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void fail(Kind kind, const fs::path& file, const std::string& why) {
    throw StateFileError(kind, file.string() + ": " + why);
}

std::string utc_timestamp() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
    return text;
}

}  // namespace

std::string read_regular_file(const fs::path& file, std::size_t max_bytes, bool follow_symlinks) {
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow_symlinks ? 0 : O_NOFOLLOW);
    Fd fd{::open(file.c_str(), flags)};
    if (fd.fd < 0) {
        int err = errno;
        if (err == ENOENT) fail(Kind::missing, file, "no such file");
        if (err == ELOOP) fail(Kind::not_regular, file, "is a symbolic link");
        fail(Kind::unreadable, file, std::string("cannot open: ") + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0)
        fail(Kind::unreadable, file, std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail(Kind::not_regular, file, "is not a regular file");
    if (static_cast<std::uintmax_t>(st.st_size) > max_bytes)
        fail(Kind::too_large, file,
             "is larger than " + std::to_string(max_bytes) + " bytes (" +
                 std::to_string(st.st_size) + ")");
    std::string out;
    char buf[65536];
    while (true) {
        auto n = ::read(fd.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            fail(Kind::unreadable, file, std::string("cannot read: ") + std::strerror(errno));
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)
            fail(Kind::too_large, file, "is larger than " + std::to_string(max_bytes) + " bytes");
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

fs::path corrupt_name_for(const fs::path& file) {
    auto base = file.string() + ".corrupt-" + utc_timestamp();
    fs::path candidate = base;
    std::error_code ec;
    for (int i = 1;
         fs::symlink_status(candidate, ec).type() != fs::file_type::not_found && i < 1000; ++i)
        candidate = base + "-" + std::to_string(i);
    return candidate;
}

fs::path set_aside_corrupt(const fs::path& file, std::string_view reason) {
    auto target = corrupt_name_for(file);
    if (::rename(file.c_str(), target.c_str()) != 0) {
        spdlog::error("{} is unusable ({}) and cannot be set aside: {}", file.string(), reason,
                      std::strerror(errno));
        return {};
    }
    spdlog::warn("{} is unusable ({}); moved it to {}", file.string(), reason, target.string());
    return target;
}

}  // namespace btd::rpc
