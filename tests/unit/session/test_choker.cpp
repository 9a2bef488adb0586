#include "core/session/choker.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace btd;
using namespace std::chrono_literals;
using choker::Candidate;

namespace {
const auto t0 = choker::Clock::time_point{} + 1000s;
Candidate peer(std::int64_t rate, bool interested = true) {
    Candidate c;
    c.interested = interested;
    c.rate = rate;
    c.connected_at = t0 - 600s;  // not new
    return c;
}
int unchoked(const choker::Decision& d) {
    return static_cast<int>(std::count(d.unchoke.begin(), d.unchoke.end(), true));
}
}  // namespace

TEST_CASE("regular slots go to the fastest interested peers, plus one optimistic") {
    TorrentTuning tuning;
    std::mt19937 rng(1);
    std::vector<Candidate> peers{peer(10), peer(50), peer(30), peer(40), peer(20), peer(99, false)};
    auto d = choker::decide(peers, 2, false, t0, tuning, rng);
    CHECK(d.unchoke[1]);        // 50
    CHECK(d.unchoke[3]);        // 40
    CHECK_FALSE(d.unchoke[5]);  // not interested: never
    REQUIRE(d.optimistic >= 0);
    CHECK(d.optimistic != 1);
    CHECK(d.optimistic != 3);
    CHECK(d.optimistic != 5);
    CHECK(d.unchoke[d.optimistic]);
    CHECK(unchoked(d) == 3);
}

TEST_CASE("snubbing peers get no regular slot; equal rates: the longest waiting first") {
    TorrentTuning tuning;
    std::mt19937 rng(2);
    std::vector<Candidate> peers{peer(100), peer(5), peer(5)};
    peers[0].snubbed = true;
    peers[1].last_unchoked = t0 - 5s;
    peers[2].last_unchoked = t0 - 50s;
    peers[0].interested = peers[1].interested = peers[2].interested = true;
    auto d = choker::decide(peers, 1, false, t0, tuning, rng);
    CHECK(d.unchoke[2]);  // waited longest
    // The snubbed peer can only get the optimistic slot.
    CHECK(d.unchoke[0] == (d.optimistic == 0));
}

TEST_CASE("the optimistic holder keeps its slot until the rotation, if still interested") {
    TorrentTuning tuning;
    std::mt19937 rng(3);
    std::vector<Candidate> peers{peer(50), peer(1), peer(2), peer(3)};
    peers[2].optimistic = true;
    auto kept = choker::decide(peers, 1, false, t0, tuning, rng);
    CHECK(kept.optimistic == 2);
    CHECK(kept.unchoke[0]);
    CHECK(unchoked(kept) == 2);
    peers[2].interested = false;
    auto lost = choker::decide(peers, 1, false, t0, tuning, rng);
    CHECK(lost.optimistic != 2);
    CHECK_FALSE(lost.unchoke[2]);
    // At rotation a new draw happens among the interested peers without a regular slot.
    std::set<int> drawn;
    peers[2].interested = true;
    for (int i = 0; i < 200; ++i)
        drawn.insert(choker::decide(peers, 1, true, t0, tuning, rng).optimistic);
    CHECK(drawn == std::set<int>{1, 2, 3});
}

TEST_CASE("new peers are three times as likely to get the optimistic slot") {
    TorrentTuning tuning;
    std::mt19937 rng(4);
    std::vector<Candidate> peers{peer(0), peer(0)};
    peers[1].connected_at = t0 - 10s;  // new
    int newcomer = 0;
    const int rounds = 4000;
    for (int i = 0; i < rounds; ++i)
        if (choker::decide(peers, 0, true, t0, tuning, rng).optimistic == 1) ++newcomer;
    CHECK(newcomer > rounds * 0.70);  // expected 0.75
    CHECK(newcomer < rounds * 0.80);
}

TEST_CASE("nobody interested: nobody unchoked") {
    TorrentTuning tuning;
    std::mt19937 rng(5);
    std::vector<Candidate> peers{peer(10, false), peer(20, false)};
    auto d = choker::decide(peers, 4, true, t0, tuning, rng);
    CHECK(d.optimistic == -1);
    CHECK(unchoked(d) == 0);
    CHECK(choker::decide({}, 4, true, t0, tuning, rng).unchoke.empty());
}

TEST_CASE(
    "free regular slots go at connect to peers that have not said whether they are "
    "interested, the longest connected first") {
    TorrentTuning tuning;
    std::mt19937 rng(6);
    std::vector<Candidate> peers{peer(0, false), peer(0, false), peer(0, false), peer(0, false)};
    peers[0].undecided = peers[1].undecided = peers[2].undecided = true;
    peers[0].connected_at = t0 - 1s;
    peers[1].connected_at = t0 - 3s;
    peers[2].connected_at = t0 - 2s;
    // peers[3] said not interested: it gets nothing.
    auto d = choker::decide(peers, 2, false, t0, tuning, rng);
    CHECK_FALSE(d.unchoke[0]);  // the newest waits for a slot
    CHECK(d.unchoke[1]);
    CHECK(d.unchoke[2]);
    CHECK_FALSE(d.unchoke[3]);
    CHECK(d.optimistic == -1);  // the optimistic slot is only for interested peers
    auto all = choker::decide(peers, 4, false, t0, tuning, rng);
    CHECK(unchoked(all) == 3);
    CHECK_FALSE(all.unchoke[3]);
}

TEST_CASE("an interested peer takes a regular slot back from an undecided one") {
    TorrentTuning tuning;
    std::mt19937 rng(7);
    std::vector<Candidate> peers{peer(0, false), peer(0, false)};
    peers[0].undecided = peers[1].undecided = true;
    peers[0].connected_at = t0 - 1s;
    peers[1].connected_at = t0 - 2s;  // connected first: it gets the one slot
    auto before = choker::decide(peers, 1, false, t0, tuning, rng);
    CHECK(before.unchoke[1]);
    CHECK_FALSE(before.unchoke[0]);
    // peers[0] says interested: the regular slot is its now; peers[1] waits (the optimistic slot
    // is drawn among interested peers without a regular slot, so it stays empty).
    peers[0].interested = true;
    peers[0].undecided = false;
    auto after = choker::decide(peers, 1, false, t0, tuning, rng);
    CHECK(after.unchoke[0]);
    CHECK_FALSE(after.unchoke[1]);
    CHECK(after.optimistic == -1);
    // With no slot at all, an undecided peer stays choked.
    CHECK(unchoked(choker::decide({peers[1]}, 0, false, t0, tuning, rng)) == 0);
}
