#pragma once
// A clock for unit tests that moves only when told (core/util/engine_clock.hpp): hand it to a
// SessionContext, Session, RateLimiter or Listener and advance() it instead of sleeping. Both
// its times start at the real ones, so dates look plausible and steady times stay comparable
// with default-constructed time points.
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

  private:
    TimePoint steady_start_ = std::chrono::steady_clock::now();
    TimePoint steady_ = steady_start_;
    std::int64_t unix_start_ = unix_seconds_now();
};

}  // namespace btd::test
