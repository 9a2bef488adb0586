#pragma once
// A clock for unit tests that moves only when told (core/util/engine_clock.hpp): hand it to a
// SessionContext, Session, RateLimiter or Listener and advance() it instead of sleeping. It
// starts a day ahead of the real clocks (dates stay plausible, default-constructed time points
// stay long past), so code that reads the real clock beside it measures a day-long gap and
// fails its test instead of passing by the few real seconds the test takes.
#include <chrono>
#include <cstdint>

#include "core/util/engine_clock.hpp"

namespace btd::test {

class ManualClock final : public EngineClock {
  public:
    TimePoint now() const override { return steady_; }
    std::int64_t unix_seconds() const override {
        return unix_start_ +
               std::chrono::duration_cast<std::chrono::seconds>(steady_ - steady_start_).count();
    }
    // Both clocks move together, as real time would.
    void advance(std::chrono::steady_clock::duration by) { steady_ += by; }

    static constexpr std::chrono::hours kAheadOfRealTime{24};

  private:
    TimePoint steady_start_ = std::chrono::steady_clock::now() + kAheadOfRealTime;
    TimePoint steady_ = steady_start_;
    std::int64_t unix_start_ = unix_seconds_now() + kAheadOfRealTime.count() * 3600;
};

}  // namespace btd::test
