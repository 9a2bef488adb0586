#include <doctest/doctest.h>

#include "core/dht/rate_guard.hpp"
#include "dht_test_support.hpp"

using namespace btd::dht;
using namespace std::chrono_literals;

namespace {
const RateGuard::TimePoint t0 = RateGuard::TimePoint{} + 24h;
Address ip(std::uint32_t n) {
    return boost::asio::ip::address_v4(0x0a000000u + n);
}
}  // namespace

TEST_CASE("a source may send 50 packets in 10 seconds, then is ignored until the window ends") {
    RateGuard guard;
    for (int i = 0; i < 50; ++i) CHECK(guard.allow(ip(1), t0 + i * 100ms));
    CHECK_FALSE(guard.allow(ip(1), t0 + 5s));
    CHECK(guard.allow(ip(2), t0 + 5s));  // others are not affected
    CHECK_FALSE(guard.allow(ip(1), t0 + 9s));
    CHECK(guard.allow(ip(1), t0 + 10s));  // a new window
}

TEST_CASE("the guard tracks a bounded number of sources and refuses new ones when full") {
    RateGuardOptions options;
    options.max_sources = 100;
    RateGuard guard(options);
    for (std::uint32_t i = 0; i < 100; ++i) CHECK(guard.allow(ip(i), t0));
    CHECK_FALSE(guard.allow(ip(1000), t0 + 1s));  // full of live windows
    CHECK(guard.tracked_sources() == 100);
    CHECK(guard.allow(ip(1), t0 + 1s));      // known sources carry on
    CHECK(guard.allow(ip(1000), t0 + 11s));  // finished windows are forgotten
    CHECK(guard.tracked_sources() == 1);
}
