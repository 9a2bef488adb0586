#pragma once
// Wall-clock seconds since the epoch: what dates shown to users and kept in resume data use.
#include <chrono>
#include <cstdint>

namespace btd {

inline std::int64_t unix_seconds_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace btd
