#include "core/util/rate_limiter.hpp"

#include <algorithm>

namespace btd {

namespace {
constexpr auto kRefillInterval = std::chrono::milliseconds(20);
constexpr std::size_t kMaxChunk = 16 * 1024 + 13;  // one block message: fair interleaving
}  // namespace

RateLimiter::RateLimiter(boost::asio::io_context& io, const EngineClock& clock)
    : timer_(io), clock_(clock), last_refill_(clock.now()) {}

RateLimiter::~RateLimiter() {  // NOLINT(bugprone-exception-escape): see the header
    *alive_ = false;
    timer_.cancel();
}

void RateLimiter::set_rate(std::int64_t bytes_per_second) {
    rate_ = std::max<std::int64_t>(0, bytes_per_second);
    tokens_ = std::min<double>(tokens_, double(rate_) / 10);
    last_refill_ = clock_.now();
    serve();
}

void RateLimiter::request(std::size_t want, Grant grant) {
    if (want == 0) return grant(0);
    if (rate_ == 0) return grant(want);
    if (waiters_.empty() && tokens_ >= 1) {
        auto n = std::min<std::size_t>({want, kMaxChunk, static_cast<std::size_t>(tokens_)});
        tokens_ -= double(n);
        return grant(n);
    }
    waiters_.push_back({want, std::move(grant)});
    schedule_refill();
}

void RateLimiter::refund(std::size_t bytes) {
    if (rate_ > 0) tokens_ += double(bytes);
}

void RateLimiter::schedule_refill() {
    if (timer_armed_) return;
    timer_armed_ = true;
    timer_.expires_after(kRefillInterval);
    timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || !alive.lock()) return;
            timer_armed_ = false;
            serve();
        });
}

void RateLimiter::serve() {
    auto now = clock_.now();
    double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    last_refill_ = now;
    if (rate_ > 0) {
        // A short burst allowance only: a limit must hold over any few-second window.
        double burst = std::max<double>(double(rate_) / 10, double(kMaxChunk));
        tokens_ = std::min(burst, tokens_ + elapsed * double(rate_));
    }
    while (!waiters_.empty()) {
        auto& w = waiters_.front();
        std::size_t n = w.want;
        if (rate_ > 0) {
            if (tokens_ < 1) break;
            n = std::min<std::size_t>({w.want, kMaxChunk, static_cast<std::size_t>(tokens_)});
            tokens_ -= double(n);
        }
        auto grant = std::move(w.grant);
        waiters_.pop_front();
        grant(n);
    }
    if (!waiters_.empty()) schedule_refill();
}

void acquire_bandwidth(LimiterChain limiters, std::size_t want, RateLimiter::Grant grant) {
    std::erase_if(limiters, [](const auto& l) { return !l || l->unlimited(); });
    if (limiters.empty()) return grant(want);
    auto first = limiters.front();
    LimiterChain rest(limiters.begin() + 1, limiters.end());
    // Waiters only hold weak references to the limiter they wait in, so no ownership cycle.
    first->request(want, [rest = std::move(rest), weak_first = std::weak_ptr<RateLimiter>(first),
                          grant = std::move(grant)](std::size_t got) mutable {
        acquire_bandwidth(std::move(rest), got,
                          [weak_first, got, grant = std::move(grant)](std::size_t final_n) {
                              if (auto f = weak_first.lock(); f && final_n < got)
                                  f->refund(got - final_n);
                              grant(final_n);
                          });
    });
}

}  // namespace btd
