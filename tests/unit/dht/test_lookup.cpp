#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/dht/lookup.hpp"
#include "dht_test_support.hpp"

using namespace btd;
using namespace btd::dht;
using namespace btd::dht::test;

namespace {

// A simulated DHT: every node answers with the k nodes it knows closest to the target. Each node
// knows its 16 nearest neighbours and a random tenth of the rest, so a lookup has to hop.
class FakeNetwork {
  public:
    FakeNetwork(std::size_t size, std::uint32_t seed) : rng_(seed) {
        for (std::uint32_t i = 0; i < size; ++i)
            nodes_.push_back({random_id(rng_), endpoint_for(i)});
        for (std::size_t i = 0; i < size; ++i) {
            auto& known = known_[i];
            known = nodes_;
            std::erase(known, nodes_[i]);
            // Like a real routing table: its own neighbourhood in full, the rest sparsely.
            std::sort(known.begin(), known.end(), [&](const NodeInfo& a, const NodeInfo& b) {
                return closer_to(nodes_[i].id, a.id, b.id);
            });
            std::vector<NodeInfo> kept(known.begin(), known.begin() + 16);
            for (std::size_t j = 16; j < known.size(); ++j)
                if (rng_() % 10 == 0) kept.push_back(known[j]);
            known = std::move(kept);
        }
    }

    std::vector<NodeInfo> answer(const Endpoint& to, const NodeId& target) const {
        std::size_t i = index_of(to);
        auto known = known_.at(i);
        std::sort(known.begin(), known.end(), [&](const NodeInfo& a, const NodeInfo& b) {
            return closer_to(target, a.id, b.id);
        });
        known.resize(std::min<std::size_t>(known.size(), 8));
        return known;
    }

    const NodeInfo& node_at(const Endpoint& ep) const { return nodes_[index_of(ep)]; }
    std::vector<NodeInfo> true_closest(const NodeId& target, std::size_t k,
                                       const std::set<Endpoint>& excluded = {}) const {
        std::vector<NodeInfo> all;
        for (const auto& n : nodes_)
            if (!excluded.contains(n.endpoint)) all.push_back(n);
        std::sort(all.begin(), all.end(), [&](const NodeInfo& a, const NodeInfo& b) {
            return closer_to(target, a.id, b.id);
        });
        all.resize(k);
        return all;
    }
    const std::vector<NodeInfo>& nodes() const { return nodes_; }
    std::mt19937& rng() { return rng_; }

  private:
    std::size_t index_of(const Endpoint& ep) const {
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i].endpoint == ep) return i;
        FAIL("no such node");
        return 0;
    }
    std::mt19937 rng_;
    std::vector<NodeInfo> nodes_;
    std::map<std::size_t, std::vector<NodeInfo>> known_;
};

// Drives a lookup to the end: replies in a shuffled order, `silent` nodes time out.
std::size_t run(Lookup& lookup, FakeNetwork& net, const std::set<Endpoint>& silent = {}) {
    std::vector<NodeInfo> pending;
    std::size_t max_in_flight = 0;
    for (int step = 0; step < 10000 && !lookup.done(); ++step) {
        for (const auto& n : lookup.next_queries()) pending.push_back(n);
        max_in_flight = std::max(max_in_flight, lookup.in_flight());
        REQUIRE_FALSE(pending.empty());
        std::size_t pick = net.rng()() % pending.size();
        NodeInfo to = pending[pick];
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(pick));
        if (silent.contains(to.endpoint))
            CHECK(lookup.on_timeout(to.endpoint));
        else
            CHECK(lookup.on_reply(to.endpoint, net.node_at(to.endpoint).id,
                                  net.answer(to.endpoint, lookup.target()), "tok"));
    }
    CHECK(lookup.done());
    return max_in_flight;
}

std::vector<NodeId> ids(const std::vector<Lookup::Result>& results) {
    std::vector<NodeId> out;
    for (const auto& r : results) out.push_back(r.node.id);
    return out;
}

std::vector<NodeId> ids(const std::vector<NodeInfo>& nodes) {
    std::vector<NodeId> out;
    for (const auto& n : nodes) out.push_back(n.id);
    return out;
}

}  // namespace

TEST_CASE("a lookup converges on the k nodes truly closest to the target") {
    FakeNetwork net(300, 11);
    for (int round = 0; round < 5; ++round) {
        NodeId target = random_id(net.rng());
        std::vector<NodeInfo> seeds(net.nodes().begin(), net.nodes().begin() + 8);
        Lookup lookup(target, seeds);
        std::size_t max_in_flight = run(lookup, net);
        CHECK(max_in_flight <= 3);
        CHECK(ids(lookup.results()) == ids(net.true_closest(target, 8)));
        CHECK(lookup.results().front().token == "tok");
        CHECK(lookup.queries_sent() < 150);
    }
}

TEST_CASE("a lookup routes around nodes that time out") {
    FakeNetwork net(300, 12);
    NodeId target = random_id(net.rng());
    std::set<Endpoint> silent;
    for (const auto& n : net.true_closest(target, 4)) silent.insert(n.endpoint);
    Lookup lookup(target, {net.nodes().begin(), net.nodes().begin() + 8});
    run(lookup, net, silent);
    // Replies keep naming the silent nodes, so the tail of the result may differ from the
    // perfect answer; the head must not, and no silent node may be in it.
    auto found = ids(lookup.results());
    auto best = ids(net.true_closest(target, 8, silent));
    REQUIRE(found.size() == 8);
    CHECK(std::equal(best.begin(), best.begin() + 4, found.begin()));
    for (const auto& r : lookup.results()) CHECK_FALSE(silent.contains(r.node.endpoint));
}

TEST_CASE("alpha bounds the queries in flight; next_queries refills as replies come") {
    FakeNetwork net(50, 13);
    LookupOptions options;
    options.alpha = 2;
    Lookup lookup(id_of(0x11), {net.nodes().begin(), net.nodes().begin() + 10}, options);
    auto first = lookup.next_queries();
    CHECK(first.size() == 2);
    CHECK(lookup.next_queries().empty());
    CHECK(lookup.on_timeout(first[0].endpoint));
    CHECK(lookup.next_queries().size() == 1);
    CHECK(lookup.in_flight() == 2);
}

TEST_CASE("a lookup ignores replies it did not ask for and never queries ourselves") {
    NodeId own = id_of(0x01);
    Endpoint own_ep = endpoint("192.0.2.1", 6881);
    LookupOptions options;
    options.own_id = own;
    options.own_endpoints = {own_ep};
    NodeInfo seed{id_of(0x80), endpoint_for(1)};
    Lookup lookup(id_of(0x00), {seed, {own, endpoint_for(2)}, {id_of(0x02), own_ep}}, options);
    CHECK(lookup.candidate_count() == 1);
    CHECK_FALSE(lookup.on_reply(endpoint_for(9), id_of(0x09), {}));  // unsolicited
    auto q = lookup.next_queries();
    REQUIRE(q.size() == 1);
    // The reply hands back our own id and address: both are dropped.
    CHECK(lookup.on_reply(
        seed.endpoint, seed.id,
        {{own, endpoint_for(3)}, {id_of(0x03), own_ep}, {id_of(0x04), endpoint_for(4)}}));
    CHECK_FALSE(lookup.on_reply(seed.endpoint, seed.id, {}));  // a second reply is late
    CHECK(lookup.candidate_count() == 2);
    auto next = lookup.next_queries();
    REQUIRE(next.size() == 1);
    CHECK(next[0].id == id_of(0x04));
}

TEST_CASE("a lookup with nothing to ask is done at once, with no results") {
    Lookup lookup(id_of(0x00), {});
    CHECK(lookup.done());
    CHECK(lookup.next_queries().empty());
    CHECK(lookup.results().empty());
}

TEST_CASE("a lookup finishes when every candidate failed, and stops at max_queries") {
    Lookup failing(id_of(0x00), {{id_of(0x80), endpoint_for(1)}, {id_of(0x81), endpoint_for(2)}});
    for (const auto& n : failing.next_queries()) failing.on_timeout(n.endpoint);
    CHECK(failing.done());
    CHECK(failing.results().empty());

    // Every reply names two new nodes closer than any before: without a cap this would not end.
    LookupOptions options;
    options.max_queries = 10;
    Lookup endless(id_of(0x00), {{id_of(0xff), endpoint_for(0)}}, options);
    std::uint32_t next_node = 1;
    for (int step = 0; step < 100 && !endless.done(); ++step) {
        for (const auto& n : endless.next_queries()) {
            std::vector<NodeInfo> more;
            for (int i = 0; i < 2; ++i, ++next_node)
                more.push_back({id_of(0x00, static_cast<std::uint8_t>(255 - next_node), 1),
                                endpoint_for(next_node)});
            endless.on_reply(n.endpoint, n.id, more);
        }
    }
    CHECK(endless.done());
    CHECK(endless.queries_sent() == 10);
}

TEST_CASE("a bootstrap seed with an unknown id takes the id from its reply") {
    Lookup lookup(id_of(0x00), {{NodeId{}, endpoint_for(1)}});
    auto q = lookup.next_queries();
    REQUIRE(q.size() == 1);
    lookup.on_reply(endpoint_for(1), id_of(0x42), {});
    REQUIRE(lookup.results().size() == 1);
    CHECK(lookup.results()[0].node.id == id_of(0x42));
}
