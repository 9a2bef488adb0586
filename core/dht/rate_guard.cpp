#include "core/dht/rate_guard.hpp"

namespace btd::dht {

// A full table under a flood of new sources would otherwise be scanned for every packet.
void RateGuard::forget_finished_windows(TimePoint now) {
    if (last_cleanup_ && now - *last_cleanup_ < std::chrono::seconds(1)) return;
    last_cleanup_ = now;
    std::erase_if(sources_, [&](const auto& s) { return now - s.second.start >= options_.window; });
}

bool RateGuard::allow(const Address& source, TimePoint now) {
    auto it = sources_.find(source);
    if (it == sources_.end()) {
        if (sources_.size() >= options_.max_sources) forget_finished_windows(now);
        if (sources_.size() >= options_.max_sources) return false;
        it = sources_.emplace(source, Window{now, 0}).first;
    }
    Window& w = it->second;
    if (now - w.start >= options_.window) w = Window{now, 0};
    ++w.packets;
    return w.packets <= options_.max_packets;
}

}  // namespace btd::dht
