#pragma once
// BEP 12 tier bookkeeping, free of I/O so the ordering rules are unit-tested: each tier is
// shuffled once, trackers are tried tier by tier in order, and a tracker that answers moves to the
// front of its tier.
#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace btd::tracker {

class TierList {
  public:
    // Empty URLs and duplicates (across all tiers) are dropped; empty tiers vanish.
    TierList(const std::vector<std::vector<std::string>>& tiers, std::mt19937& rng);

    std::size_t size() const { return urls_.size(); }
    bool empty() const { return urls_.empty(); }
    const std::string& url(std::size_t id) const { return urls_[id]; }
    int tier_of(std::size_t id) const { return tier_of_[id]; }

    // Tracker ids in the order to try them now: tier 0 front to back, then tier 1, ...
    std::vector<std::size_t> attempt_order() const;
    // The tracker answered: it becomes the first of its tier.
    void promote(std::size_t id);
    // The first tracker in attempt order (the one that answered last, if any did).
    std::size_t preferred() const { return tiers_.front().front(); }

  private:
    std::vector<std::string> urls_;
    std::vector<int> tier_of_;
    std::vector<std::vector<std::size_t>> tiers_;  // ids, current order
};

}  // namespace btd::tracker
