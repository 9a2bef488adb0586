#pragma once
// Whom a torrent unchokes: regular slots go to the interested peers that give us most (while
// downloading) or take most (while seeding), snubbing peers get none, and one optimistic slot
// rotates among the rest, new peers three times as likely. Regular slots left free go to peers
// that have just connected and not yet said whether they are interested (as libtorrent does):
// their first requests then need no round trip for `interested`/`unchoke`, and an interested
// peer takes such a slot back at the next decision. A pure function of the peers' state:
// no sockets, no clock of its own, the random source is passed in. Any thread.
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "core/session/tuning.hpp"

namespace btd::choker {

using Clock = std::chrono::steady_clock;

// One connected peer as the choker sees it.
struct Candidate {
    bool interested = false;  // the peer wants data from us
    bool undecided = false;   // said neither interested nor not interested yet, and may want data
    bool snubbed = false;     // it has not delivered what we asked for
    bool optimistic = false;  // it holds the optimistic slot now
    std::int64_t rate = 0;    // bytes/s it gives us (downloading) or takes (seeding)
    Clock::time_point last_unchoked{};
    Clock::time_point connected_at{};
};

struct Decision {
    std::vector<bool> unchoke;  // one per candidate, in the same order
    int optimistic = -1;        // index of the optimistic slot's holder, -1 = none
};

// `slots` regular slots plus one optimistic. The optimistic holder keeps its slot while it stays
// interested unless `rotate_optimistic`.
Decision decide(const std::vector<Candidate>& peers, int slots, bool rotate_optimistic,
                Clock::time_point now, const TorrentTuning& tuning, std::mt19937& rng);

}  // namespace btd::choker
