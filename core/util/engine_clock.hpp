#pragma once
// The engine's clocks behind one seam. Every decision that depends on time (redial back-off,
// bans, snubbing, choking, inactivity, seeding limits, queue stalls, rate limits) and every date
// a torrent records (added, done, activity) reads an EngineClock, never std::chrono::*::now()
// itself, so a unit test can drive time with a manual clock (tests/support/manual_clock.hpp)
// instead of sleeping. Timers (asio::steady_timer) stay real: they only say when to look again.
//
// The engine holds an EngineClock by reference: it must outlive the Session, its torrents and
// everything they hand out (rate limiters, peer connections). system_clock() lives for the whole
// process. Network thread only, like the engine (the real clock itself is safe anywhere).
#include <chrono>
#include <cstdint>

#include "core/util/unix_time.hpp"

namespace btd {

class EngineClock {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    virtual ~EngineClock() = default;
    // Monotonic time, for intervals, timeouts and back-off.
    virtual TimePoint now() const = 0;
    // Wall-clock seconds since the epoch, for dates shown to users and kept in resume data.
    virtual std::int64_t unix_seconds() const = 0;
};

// std::chrono::steady_clock and system_clock.
class SystemClock final : public EngineClock {
  public:
    TimePoint now() const override { return std::chrono::steady_clock::now(); }
    std::int64_t unix_seconds() const override { return unix_seconds_now(); }
};

// The real clock of the process (stateless; never destroyed before the engine).
inline const EngineClock& system_clock() {
    static const SystemClock kSystemClock;
    return kSystemClock;
}

}  // namespace btd
