#pragma once
// Per-source packet limit for incoming DHT traffic: a source that sends more than max_packets in
// one window is ignored until the window ends (libtorrent does the same with 50 packets in 10 s).
// Memory is bounded: at most max_sources addresses are tracked; when the table is full of live
// windows, packets from new sources are refused rather than letting a spoofed flood grow it.
// Pure: time is passed in. Network thread only.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>

#include "core/dht/node_id.hpp"

namespace btd::dht {

struct RateGuardOptions {
    std::size_t max_packets = 50;
    std::chrono::seconds window{10};
    std::size_t max_sources = 10000;
};

class RateGuard {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    explicit RateGuard(RateGuardOptions options = {}) : options_(options) {}

    // True if a packet from `source` at `now` may be handled; counts it either way.
    bool allow(const Address& source, TimePoint now);
    std::size_t tracked_sources() const { return sources_.size(); }

  private:
    struct Window {
        TimePoint start;
        std::size_t packets = 0;
    };
    void forget_finished_windows(TimePoint now);

    RateGuardOptions options_;
    std::map<Address, Window> sources_;
    std::optional<TimePoint> last_cleanup_;
};

}  // namespace btd::dht
