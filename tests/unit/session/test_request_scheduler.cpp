#include "core/session/request_scheduler.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "core/peer/wire.hpp"
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

namespace {

// What a peer asks for through the scheduler's caller: picked blocks become its requests.
std::vector<BlockRef> ask(PiecePicker& picker, PeerState& peer, const Bitfield& has, int blocks) {
    auto picked = picker.pick(has, peer.key(), blocks, 8);
    for (const auto& b : picked) peer.add_request(b, rs::Clock::time_point{});
    return picked;
}

bool asked(const PeerState& peer, const BlockRef& block) {
    return std::any_of(peer.requests().begin(), peer.requests().end(),
                       [&](const auto& r) { return r.block == block; });
}

}  // namespace

TEST_CASE("endgame: duplicates only once every block is asked for; the losers get a CANCEL") {
    const int pieces = 2;  // 4 blocks each: 8 blocks
    PiecePicker picker(pieces, 4 * kBlockSize, 8 * kBlockSize, 3);
    Bitfield all(pieces);
    all.set_all();
    picker.peer_has_bitfield(all);
    picker.peer_has_bitfield(all);
    PeerState a(PeerKey{1}, pieces, {}), b(PeerKey{2}, pieces, {});

    auto from_a = ask(picker, a, all, 5);
    auto from_b = ask(picker, b, all, 2);  // 1 block still free: no duplicates yet
    REQUIRE(from_b.size() == 2);
    CHECK_FALSE(picker.in_endgame());
    for (const auto& block : from_b) CHECK_FALSE(asked(a, block));

    auto racing = ask(picker, b, all, 3);  // the last free block, then two of a's
    REQUIRE(racing.size() == 3);
    CHECK(picker.in_endgame());
    CHECK_FALSE(asked(a, racing[0]));
    CHECK(asked(a, racing[1]));
    CHECK(asked(a, racing[2]));

    // b delivers a raced block first: a, the other requester, is told to forget it.
    const BlockRef won = racing[1];
    std::vector<PeerKey> others;
    REQUIRE(b.remove_request(won));
    REQUIRE(picker.block_received(won, b.key(), others));
    REQUIRE(others == std::vector<PeerKey>{a.key()});
    std::string out;
    CHECK(rs::cancel_raced_request(a, won, out));
    REQUIRE(out.size() == 17);
    auto cancel = wire::decode_message(std::string_view(out).substr(4));
    CHECK(cancel.type == wire::MsgType::cancel);
    CHECK(cancel.piece == std::uint32_t(won.piece));
    CHECK(cancel.offset == std::uint32_t(won.offset));
    CHECK(cancel.length == std::uint32_t(won.length));
    CHECK_FALSE(asked(a, won));
    CHECK(a.requests().size() == 4);  // its other requests stand

    // Nothing to cancel at a peer that no longer waits for the block (already cancelled, or
    // answered, rejected or choked meanwhile).
    std::string again;
    CHECK_FALSE(rs::cancel_raced_request(a, won, again));
    CHECK(again.empty());
}
