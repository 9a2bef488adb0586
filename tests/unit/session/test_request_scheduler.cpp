#include "core/session/request_scheduler.hpp"

#include <doctest/doctest.h>

#include "core/pieces/picker.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace rs = btd::request_scheduler;

TEST_CASE("the pipeline holds a few seconds of data at the peer's rate, within limits") {
    TorrentTuning tuning;  // 16..500 blocks, 3 s
    CHECK(rs::queue_target(0, 250, tuning) == 16);
    CHECK(rs::queue_target(1 << 20, 250, tuning) == 3 * 64);  // 1 MiB/s: 3 s of 16 KiB blocks
    CHECK(rs::queue_target(100 << 20, 250, tuning) == 250);   // the peer's reqq caps it
    CHECK(rs::queue_target(100 << 20, 5000, tuning) == 500);  // and ours
    CHECK(rs::queue_target(0, 4, tuning) == 4);  // a peer asking for fewer than our minimum
}

TEST_CASE("requests go out in batches, not one per block received") {
    CHECK(rs::blocks_to_request(16, 0) == 16);
    CHECK(rs::blocks_to_request(16, 15) == 0);  // 1 free: wait for more
    CHECK(rs::blocks_to_request(16, 11) == 5);  // 16/4+1 = 5 free: send
    CHECK(rs::blocks_to_request(200, 193) == 0);
    CHECK(rs::blocks_to_request(200, 192) == 8);  // batches of at most 8 are enough
    CHECK(rs::blocks_to_request(1, 0) == 1);      // snubbed: one at a time
    CHECK(rs::blocks_to_request(1, 1) == 0);
    CHECK(rs::blocks_to_request(16, 20) == 0);  // over the target (it shrank)
}

TEST_CASE("new pieces open only within the memory budget, but progress never stops") {
    const std::int64_t mib = 1 << 20;
    CHECK(rs::new_pieces_allowed(64 * mib, 0, mib, false) == 64);
    CHECK(rs::new_pieces_allowed(64 * mib, 60 * mib, mib, false) == 4);
    CHECK(rs::new_pieces_allowed(64 * mib, 70 * mib, mib, false) == 0);  // over budget
    CHECK(rs::new_pieces_allowed(64 * mib, 70 * mib, mib, true) == 1);   // nothing in progress
    CHECK(rs::new_pieces_allowed(mib / 2, 0, mib, true) == 1);
}

TEST_CASE("a peer that delivers nothing for the request timeout is snubbed") {
    TorrentTuning tuning;  // 20 s
    auto t0 = rs::Clock::time_point{} + 1000s;
    CHECK_FALSE(rs::snubbed(t0 + 20s, t0 - 100s, t0, tuning));
    CHECK(rs::snubbed(t0 + 21s, t0 - 100s, t0, tuning));
    CHECK_FALSE(rs::snubbed(t0 + 21s, t0 + 5s, t0, tuning));  // a block came meanwhile
}

TEST_CASE("a peer that chokes us is asked only for allowed-fast pieces it has") {
    Bitfield has(10);
    has.set(1);
    has.set(3);
    has.set(7);
    auto allowed = rs::allowed_while_choked(has, {3, 4, 7, 99});
    CHECK(allowed.count() == 2);
    CHECK(allowed.test(3));
    CHECK(allowed.test(7));
    CHECK_FALSE(allowed.test(1));
}
