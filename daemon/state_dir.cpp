#include "daemon/state_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace btd::daemon {

namespace fs = std::filesystem;

StateDirLock::StateDirLock(const fs::path& state_dir) {
    std::error_code ec;
    bool created = fs::create_directories(state_dir, ec);
    if (ec || !fs::is_directory(state_dir))
        throw StateDirError("cannot create state directory " + state_dir.string() + ": " +
                            (ec ? ec.message() : "not a directory"));
    if (created) fs::permissions(state_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    auto file = state_dir / "btd.lock";
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw StateDirError("cannot open " + file.string() + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK)
            throw StateDirError("another btd is already running with state directory " +
                                state_dir.string());
        throw StateDirError("cannot lock " + file.string() + ": " + std::strerror(err));
    }
}

StateDirLock::~StateDirLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace btd::daemon
