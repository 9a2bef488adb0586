#pragma once
// Token bucket shared by many connections (one per direction, per torrent and per session).
// Waiters are served first-come first-served in chunks, which keeps connections fair.
// Tokens accrue by `clock` (engine_clock.hpp), which must outlive the limiter; the refill timer
// is real and only says when to look again. Network thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <vector>

#include "core/util/engine_clock.hpp"

namespace btd {

class RateLimiter {
  public:
    using Grant = std::function<void(std::size_t granted)>;

    explicit RateLimiter(boost::asio::io_context& io, const EngineClock& clock = system_clock());
    ~RateLimiter();  // NOLINT(bugprone-exception-escape): a timer's cancel() cannot fail
    RateLimiter(const RateLimiter&) = delete;
    RateLimiter& operator=(const RateLimiter&) = delete;

    void set_rate(std::int64_t bytes_per_second);  // 0 = unlimited
    std::int64_t rate() const { return rate_; }
    bool unlimited() const { return rate_ == 0; }

    // Calls grant(n), 1 <= n <= want, once tokens are available: immediately (synchronously)
    // when unlimited or tokens are left, else from the refill timer.
    void request(std::size_t want, Grant grant);
    void refund(std::size_t bytes);  // return tokens a chained limiter could not use

  private:
    void serve();
    void schedule_refill();

    boost::asio::steady_timer timer_;
    const EngineClock& clock_;
    std::int64_t rate_ = 0;
    double tokens_ = 0;
    std::chrono::steady_clock::time_point last_refill_;
    struct Waiter {
        std::size_t want;
        Grant grant;
    };
    // A list, not a deque: libstdc++'s deque allocates 576 bytes even while empty, and every
    // loaded torrent has two limiters that almost never have a waiter.
    std::list<Waiter> waiters_;
    bool timer_armed_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Takes `want` bytes from every limiter in turn (e.g. torrent then session); grant gets the
// smallest amount all of them allowed, and the surplus is refunded.
using LimiterChain = std::vector<std::shared_ptr<RateLimiter>>;
void acquire_bandwidth(LimiterChain limiters, std::size_t want, RateLimiter::Grant grant);

}  // namespace btd
