#pragma once
// Transfer rate over a short sliding window, sampled once per second by the owner's tick.
#include <array>
#include <cstdint>

namespace btd {

class RateMeter {
  public:
    void add(std::int64_t bytes) {
        current_ += bytes;
        total_ += bytes;
    }
    // Call once per second: closes the current one-second bucket.
    void tick() {
        window_[pos_] = current_;
        pos_ = (pos_ + 1) % window_.size();
        current_ = 0;
        if (filled_ < window_.size()) ++filled_;
    }
    std::int64_t rate() const {  // bytes per second
        if (filled_ == 0) return current_;
        std::int64_t sum = 0;
        for (std::size_t i = 0; i < filled_; ++i) sum += window_[i];
        return sum / static_cast<std::int64_t>(filled_);
    }
    std::int64_t total() const { return total_; }
    void clear_rate() {  // e.g. on pause: no transfer now, whatever the last seconds saw
        window_.fill(0);
        current_ = 0;
        filled_ = 0;
    }
    void set_total(std::int64_t t) { total_ = t; }

  private:
    std::array<std::int64_t, 5> window_{};
    std::size_t pos_ = 0;
    std::size_t filled_ = 0;
    std::int64_t current_ = 0;
    std::int64_t total_ = 0;
};

}  // namespace btd
