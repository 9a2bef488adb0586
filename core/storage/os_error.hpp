#pragma once
// Which OS errors of a disk job are likely to pass by themselves. Pure; any thread.
#include <cerrno>

namespace btd {

// Out of descriptors, disk space, quota or memory: the condition usually ends (a connection
// flood stops, a file is deleted), so the job is worth retrying later. Everything else
// (permissions, read-only file system, I/O errors, ...) stays an error until the user acts.
constexpr bool is_transient_os_error(int err) {
    switch (err) {
        case EMFILE:
        case ENFILE:
        case ENOSPC:
        case EDQUOT:
        case ENOMEM:
        case ENOBUFS:
        case EAGAIN:
            return true;
        default:
            return false;
    }
}

}  // namespace btd
