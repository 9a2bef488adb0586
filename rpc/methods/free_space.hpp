#pragma once
// Free space of a directory's file system (statvfs), measured on the Session's disk pool so the
// network thread never waits for a slow or hung mount. For session.stats and Transmission's
// free-space.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/session/session.hpp"

namespace btd::rpc {

struct FreeSpace {
    std::int64_t available = -1;  // bytes an unprivileged user may still write; -1 = unknown
    std::int64_t capacity = -1;   // size of the file system; -1 = unknown
    std::string error;            // why it is unknown ("No such file or directory")
};

// Any thread; never throws.
FreeSpace measure_free_space(const std::filesystem::path& dir);

// Measures on the disk pool; `done` runs on the network thread, exactly once, unless the
// Session is destroyed first. Network thread only.
void measure_free_space(Session& session, std::filesystem::path dir,
                        std::function<void(FreeSpace)> done);

}  // namespace btd::rpc
