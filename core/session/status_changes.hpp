#pragma once
// Change tracking for pollers (torrent.list {since}): one session-wide sequence number, and per
// torrent the number at which its listed status last changed, found by comparing a 64-bit
// fingerprint of the status with the one seen last time. Costs 24 bytes per torrent; nothing
// runs between polls. Used on the network thread only.
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/session/types.hpp"

namespace btd {

class StatusChangeTracker {
  public:
    // Sequence numbers start at a value taken from the clock, so a token from an earlier run
    // of the daemon is older than anything this one can answer and gets the complete list.
    StatusChangeTracker();
    explicit StatusChangeTracker(std::uint64_t first_sequence, std::size_t removed_kept = 4096);

    // Records `status` as seen now; returns the sequence number of its last change.
    std::uint64_t observe(const TorrentStatus& status);
    void removed(const Sha1Hash& id);  // the torrent left the session

    std::uint64_t sequence() const { return sequence_; }
    // True if changes after `since` can be answered exactly (not too old, not from the future).
    bool answers(std::uint64_t since) const { return since >= floor_ && since <= sequence_; }
    // Torrents removed after `since` (answers(since) must be true).
    std::vector<Sha1Hash> removed_since(std::uint64_t since) const;

  private:
    struct Seen {
        std::uint64_t fingerprint = 0;
        std::uint64_t changed_at = 0;
    };
    std::uint64_t sequence_;
    std::uint64_t floor_;  // oldest `since` still answered exactly
    std::size_t removed_kept_;
    std::unordered_map<Sha1Hash, Seen, Sha1HashHasher> seen_;
    std::deque<std::pair<std::uint64_t, Sha1Hash>> removed_;  // oldest first
};

// A 64-bit fingerprint of every member torrent.list shows (FNV-1a).
std::uint64_t status_fingerprint(const TorrentStatus& status);

}  // namespace btd
