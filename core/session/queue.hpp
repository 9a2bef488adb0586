#pragma once
// The download queue's decisions, as pure functions: which torrents may run given their queue
// positions, what they are doing and the limits, and how queue moves reorder them. No I/O, no
// clock (the caller says which torrents are stalled); any thread. Session applies the answers
// (session_queue.cpp). Model: libtorrent's auto-managed torrents and Transmission's queue.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/session/types.hpp"
#include "core/util/hash.hpp"
#include "core/util/sha1_map.hpp"

namespace btd::queue {

// One torrent as the queue sees it.
struct Entry {
    bool wants_to_run = false;  // not paused, not stopped on an error
    bool seeding = false;       // every wanted piece verified: competes for a seeding slot
    bool forced = false;        // started with "start now": runs whatever the limits say
    bool stalled = false;       // running but no payload for a while: runs, holds no slot
};

struct Limits {
    int max_downloads = 5;  // -1 = unlimited
    int max_seeds = -1;     // -1 = unlimited
};

// Given entries in queue order (position 0 first), whether each may run now. Downloads and
// seeds fill their own slots in queue order (a torrent checking its data too: it is about to
// run); forced and stalled torrents run without taking one; those that do not want to run get
// false. O(n).
std::vector<bool> may_run(const std::vector<Entry>& in_order, const Limits& limits);

using Move = QueueMove;
// "top", "up", "down", "bottom"; nothing for anything else.
std::optional<Move> parse_move(std::string_view name);

// The order after moving `selected` (Transmission's queue-move-*): top/bottom keep the selected
// torrents' relative order; up/down move each selected one past one unselected neighbour.
std::vector<Sha1Hash> moved(std::vector<Sha1Hash> order, const Sha1Set& selected, Move to);
// The order after putting `id` at `position`, clamped to 0..n-1 (Transmission's torrent-set
// queuePosition); the others keep their relative order. Unchanged if `id` is not in `order`.
std::vector<Sha1Hash> placed(std::vector<Sha1Hash> order, const Sha1Hash& id,
                             std::int64_t position);

// Queue positions of every torrent: who is where, kept dense (0..n-1) across adds, removes and
// moves. A torrent restored with a saved position goes back to it relative to the others.
class Positions {
  public:
    // At the end of the queue, or at `saved` (from resume data) among the restored ones.
    void add(const Sha1Hash& id, std::optional<std::int64_t> saved = std::nullopt);
    void remove(const Sha1Hash& id);
    std::vector<Sha1Hash> order() const;  // position 0 first
    // Replaces the order (a permutation of order()); returns the ids whose position changed.
    std::vector<Sha1Hash> reorder(const std::vector<Sha1Hash>& order);
    int position(const Sha1Hash& id) const;  // -1 if unknown

  private:
    void renumber() const;
    void renumber_if_stale() const {
        if (stale_) renumber();
    }
    Sha1Map<std::int64_t> key_;  // sort key; ties (only while restoring) by id
    // Rank by key, computed when asked after an add out of order or a remove: restoring
    // 10,000 torrents must not sort them all once per torrent.
    // A hash map: torrent.list asks each torrent's position, 10,000 times per call.
    mutable std::unordered_map<Sha1Hash, int, Sha1HashHasher> position_;
    mutable bool stale_ = false;
    mutable std::int64_t last_key_ = -1;  // no key is greater
};

}  // namespace btd::queue
