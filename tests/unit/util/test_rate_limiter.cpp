#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include "../../support/manual_clock.hpp"
#include "core/util/rate_limiter.hpp"

using namespace btd;
using namespace std::chrono_literals;

TEST_CASE("unlimited limiter grants everything at once") {
    boost::asio::io_context io;
    auto limiter = std::make_shared<RateLimiter>(io);
    std::size_t got = 0;
    limiter->request(1 << 20, [&](std::size_t n) { got = n; });
    CHECK(got == 1 << 20);
}

TEST_CASE("limited limiter holds its rate over a window") {
    boost::asio::io_context io;
    auto limiter = std::make_shared<RateLimiter>(io);
    constexpr std::int64_t rate = 200 * 1024;
    limiter->set_rate(rate);
    std::int64_t total = 0;
    auto start = std::chrono::steady_clock::now();
    std::function<void()> pull = [&] {
        limiter->request(16 * 1024, [&](std::size_t n) {
            CHECK(n >= 1);
            CHECK(n <= 16 * 1024);
            total += static_cast<std::int64_t>(n);
            if (std::chrono::steady_clock::now() - start < 1s) pull();
        });
    };
    pull();
    io.run_for(3s);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double measured = double(total) / std::max(seconds, 1.0);
    // One second at 200 KiB/s plus at most the burst allowance (rate/10).
    CHECK(measured < rate * 1.2);
    CHECK(measured > rate * 0.8);
}

TEST_CASE("waiters are served fairly, first come first served") {
    boost::asio::io_context io;
    auto limiter = std::make_shared<RateLimiter>(io);
    limiter->set_rate(100 * 1024);
    std::int64_t a = 0, b = 0;
    auto start = std::chrono::steady_clock::now();
    std::function<void(std::int64_t&)> pull = [&](std::int64_t& counter) {
        limiter->request(16 * 1024, [&](std::size_t n) {
            counter += static_cast<std::int64_t>(n);
            if (std::chrono::steady_clock::now() - start < 1500ms) pull(counter);
        });
    };
    pull(a);
    pull(b);
    io.run_for(3s);
    REQUIRE(a + b > 0);
    double share = double(a) / double(a + b);
    CHECK(share > 0.35);
    CHECK(share < 0.65);
}

TEST_CASE("a chain grants the smallest allowance and refunds the rest") {
    boost::asio::io_context io;
    auto wide = std::make_shared<RateLimiter>(io);
    auto narrow = std::make_shared<RateLimiter>(io);
    wide->set_rate(0);
    narrow->set_rate(50 * 1024);
    std::int64_t total = 0;
    auto start = std::chrono::steady_clock::now();
    std::function<void()> pull = [&] {
        acquire_bandwidth({wide, narrow}, 16 * 1024, [&](std::size_t n) {
            total += static_cast<std::int64_t>(n);
            if (std::chrono::steady_clock::now() - start < 1s) pull();
        });
    };
    pull();
    io.run_for(2s);
    CHECK(total < 50 * 1024 * 1.3);
    CHECK(total > 50 * 1024 * 0.7);
}

TEST_CASE("a waiter's limiter may be destroyed while it waits") {
    boost::asio::io_context io;
    auto global = std::make_shared<RateLimiter>(io);
    global->set_rate(1024);
    bool called = false;
    {
        auto local = std::make_shared<RateLimiter>(io);
        local->set_rate(1024);
        acquire_bandwidth({local, global}, 64 * 1024, [&](std::size_t) {});
        acquire_bandwidth({local, global}, 64 * 1024, [&](std::size_t) { called = true; });
    }
    io.run_for(200ms);
    CHECK_FALSE(called);  // the torrent went away: its waiters are dropped, nothing dangles
}

TEST_CASE("a limited limiter's tokens accrue by its clock, not by how long the loop ran") {
    boost::asio::io_context io;
    test::ManualClock clock;
    auto limiter = std::make_shared<RateLimiter>(io, clock);
    limiter->set_rate(100 * 1024);  // starts with no tokens
    std::size_t got = 0;
    limiter->request(16 * 1024, [&](std::size_t n) { got += n; });
    io.run_for(300ms);  // refill timer fires many times; the clock has not moved
    CHECK(got == 0);

    clock.advance(100ms);  // 10 KiB worth, granted at the next refill
    for (int i = 0; i < 100 && got == 0; ++i) {
        io.restart();
        io.run_for(50ms);
    }
    CHECK(got > 0);
    CHECK(got <= 10 * 1024 + 1);
}
