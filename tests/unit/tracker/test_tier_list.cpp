#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "core/tracker/tier_list.hpp"

using namespace btd::tracker;

namespace {

std::vector<std::string> urls_in_order(const TierList& t) {
    std::vector<std::string> out;
    for (auto id : t.attempt_order()) out.push_back(t.url(id));
    return out;
}

}  // namespace

TEST_CASE("tiers keep their order, trackers are shuffled only within a tier") {
    std::vector<std::vector<std::string>> tiers = {{"a1", "a2", "a3", "a4"}, {"b1", "b2"}, {"c1"}};
    std::set<std::vector<std::string>> seen_orders;
    for (unsigned seed = 0; seed < 50; ++seed) {
        std::mt19937 rng(seed);
        TierList t(tiers, rng);
        auto order = urls_in_order(t);
        REQUIRE(order.size() == 7);
        std::set<std::string> first(order.begin(), order.begin() + 4);
        CHECK(first == std::set<std::string>{"a1", "a2", "a3", "a4"});
        std::set<std::string> second(order.begin() + 4, order.begin() + 6);
        CHECK(second == std::set<std::string>{"b1", "b2"});
        CHECK(order[6] == "c1");
        seen_orders.insert(order);
    }
    CHECK(seen_orders.size() > 1);  // the shuffle does happen
}

TEST_CASE("a tracker that answered moves to the front of its own tier only") {
    std::mt19937 rng(1);
    TierList t({{"a1", "a2", "a3"}, {"b1", "b2"}}, rng);
    auto order = t.attempt_order();
    // promote the last tracker of tier 0
    std::size_t last_of_tier0 = order[2];
    t.promote(last_of_tier0);
    auto after = t.attempt_order();
    CHECK(after[0] == last_of_tier0);
    CHECK(after[1] == order[0]);
    CHECK(after[2] == order[1]);
    CHECK(t.preferred() == last_of_tier0);
    // promoting in tier 1 leaves tier 0 first
    std::size_t b_second = after[4];
    t.promote(b_second);
    auto final_order = t.attempt_order();
    CHECK(final_order[0] == last_of_tier0);
    CHECK(final_order[3] == b_second);
    CHECK(t.tier_of(b_second) == 1);
}

TEST_CASE("empty and duplicate URLs are dropped, empty tiers vanish") {
    std::mt19937 rng(3);
    TierList t({{}, {"x", ""}, {"x", "y"}, {""}}, rng);
    auto order = urls_in_order(t);
    CHECK(order == std::vector<std::string>{"x", "y"});
    CHECK(t.tier_of(t.attempt_order()[0]) == 0);
    CHECK(t.tier_of(t.attempt_order()[1]) == 1);
    TierList none({}, rng);
    CHECK(none.empty());
    CHECK(none.attempt_order().empty());
}
