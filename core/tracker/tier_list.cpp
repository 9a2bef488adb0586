#include "core/tracker/tier_list.hpp"

#include <algorithm>
#include <set>

namespace btd::tracker {

TierList::TierList(const std::vector<std::vector<std::string>>& tiers, std::mt19937& rng) {
    std::set<std::string> seen;
    for (const auto& tier : tiers) {
        std::vector<std::size_t> ids;
        for (const auto& url : tier) {
            if (url.empty() || !seen.insert(url).second) continue;
            ids.push_back(urls_.size());
            urls_.push_back(url);
            tier_of_.push_back(static_cast<int>(tiers_.size()));
        }
        if (ids.empty()) continue;
        std::shuffle(ids.begin(), ids.end(), rng);
        tiers_.push_back(std::move(ids));
    }
}

std::vector<std::size_t> TierList::attempt_order() const {
    std::vector<std::size_t> out;
    for (const auto& tier : tiers_) out.insert(out.end(), tier.begin(), tier.end());
    return out;
}

void TierList::promote(std::size_t id) {
    auto& tier = tiers_[static_cast<std::size_t>(tier_of_[id])];
    auto it = std::find(tier.begin(), tier.end(), id);
    if (it != tier.end()) std::rotate(tier.begin(), it, it + 1);
}

}  // namespace btd::tracker
