#include "core/session/choker.hpp"

#include <algorithm>

namespace btd::choker {

namespace {

int kept_optimistic(const std::vector<Candidate>& peers, bool rotate) {
    if (rotate) return -1;
    for (std::size_t i = 0; i < peers.size(); ++i)
        if (peers[i].optimistic && peers[i].interested) return static_cast<int>(i);
    return -1;
}

// Slots no interested peer wants go to peers that may still ask, the longest connected first.
void fill_free_slots_with_undecided(const std::vector<Candidate>& peers, int free_slots,
                                    std::vector<bool>& unchoke) {
    std::vector<int> order;
    for (std::size_t i = 0; i < peers.size(); ++i)
        if (peers[i].undecided && !peers[i].interested) order.push_back(static_cast<int>(i));
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return peers[a].connected_at < peers[b].connected_at; });
    for (int i : order) {
        if (free_slots <= 0) break;
        unchoke[i] = true;
        --free_slots;
    }
}

// The fastest interested, unsnubbed peers; equal rates: the longest waiting first.
void fill_regular_slots(const std::vector<Candidate>& peers, int slots, int optimistic,
                        std::vector<bool>& unchoke) {
    std::vector<int> order;
    for (std::size_t i = 0; i < peers.size(); ++i)
        if (peers[i].interested && !peers[i].snubbed) order.push_back(static_cast<int>(i));
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        if (peers[a].rate != peers[b].rate) return peers[a].rate > peers[b].rate;
        return peers[a].last_unchoked < peers[b].last_unchoked;
    });
    int taken = 0;
    for (int i : order) {
        if (taken >= slots) break;
        if (i == optimistic) continue;
        unchoke[i] = true;
        ++taken;
    }
    fill_free_slots_with_undecided(peers, slots - taken, unchoke);
}

// New peers get three times the chance: they have nothing to offer yet.
int pick_optimistic(const std::vector<Candidate>& peers, const std::vector<bool>& unchoke,
                    Clock::time_point now, const TorrentTuning& tuning, std::mt19937& rng) {
    std::vector<int> pool;
    for (std::size_t i = 0; i < peers.size(); ++i) {
        if (!peers[i].interested || unchoke[i]) continue;
        int weight = now - peers[i].connected_at < tuning.new_peer_age ? 3 : 1;
        pool.insert(pool.end(), weight, static_cast<int>(i));
    }
    if (pool.empty()) return -1;
    return pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
}

}  // namespace

Decision decide(const std::vector<Candidate>& peers, int slots, bool rotate_optimistic,
                Clock::time_point now, const TorrentTuning& tuning, std::mt19937& rng) {
    Decision d;
    d.unchoke.assign(peers.size(), false);
    d.optimistic = kept_optimistic(peers, rotate_optimistic);
    fill_regular_slots(peers, slots, d.optimistic, d.unchoke);
    if (d.optimistic < 0) d.optimistic = pick_optimistic(peers, d.unchoke, now, tuning, rng);
    if (d.optimistic >= 0) d.unchoke[d.optimistic] = true;
    return d;
}

}  // namespace btd::choker
