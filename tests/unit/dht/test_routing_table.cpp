#include <doctest/doctest.h>

#include "core/dht/routing_table.hpp"
#include "dht_test_support.hpp"

using namespace btd;
using namespace btd::dht;
using namespace btd::dht::test;
using namespace std::chrono_literals;
using Added = RoutingTable::Added;

namespace {

const NodeId kOwn{};  // all zero: a node's bucket is the number of its leading zero bits
const RoutingTable::TimePoint t0 = RoutingTable::TimePoint{} + 24h;

NodeInfo node(std::uint32_t n, const NodeId& id) {
    return {id, endpoint_for(n)};
}

// Eight nodes with no bit in common with our id: they belong to bucket 0.
void fill_far_bucket(RoutingTable& table, RoutingTable::TimePoint now) {
    for (std::uint8_t i = 0; i < 8; ++i)
        REQUIRE(table.node_replied(node(i, id_of(0x80 | i)), now).result == Added::added);
}

}  // namespace

TEST_CASE("a new table has one bucket that takes k nodes") {
    RoutingTable table(kOwn);
    CHECK(table.bucket_count() == 1);
    fill_far_bucket(table, t0);
    CHECK(table.size() == 8);
    CHECK(table.bucket_count() == 1);
}

TEST_CASE("only the bucket holding our own id splits; others send newcomers to the cache") {
    RoutingTable table(kOwn);
    fill_far_bucket(table, t0);
    // A ninth far node: the only bucket splits (it holds our id), but all eight stay in bucket 0.
    CHECK(table.node_replied(node(8, id_of(0x88)), t0).result == Added::replacement);
    CHECK(table.bucket_count() == 2);
    CHECK(table.bucket_size(0) == 8);
    CHECK(table.bucket_size(1) == 0);
    CHECK(table.replacement_count(0) == 1);
    // Nodes nearer to us go to the new last bucket, which splits again when it fills.
    for (std::uint8_t i = 0; i < 8; ++i)
        CHECK(table.node_replied(node(20 + i, id_of(0x40 | i)), t0).result == Added::added);
    CHECK(table.bucket_size(1) == 8);
    CHECK(table.node_replied(node(30, id_of(0x01)), t0).result == Added::added);  // 7 shared bits
    CHECK(table.bucket_count() == 3);
    CHECK(table.bucket_size(1) == 8);
    CHECK(table.bucket_size(2) == 1);
    CHECK(table.size() == 17);
}

TEST_CASE("random insertions keep every node in the bucket its shared prefix calls for") {
    std::mt19937 rng(7);
    NodeId own = random_id(rng);
    RoutingTable table(own);
    for (std::uint32_t i = 0; i < 3000; ++i) {
        NodeId id = random_id(rng);
        if (i % 3 == 0) id[0] = own[0];  // some share more bits, to drive splits deeper
        if (i % 9 == 0) id[1] = own[1];
        table.node_replied(node(i, id), t0);
    }
    CHECK(table.bucket_count() > 8);
    std::size_t total = 0;
    for (std::size_t b = 0; b < table.bucket_count(); ++b) {
        CHECK(table.bucket_size(b) <= 8);
        total += table.bucket_size(b);
    }
    CHECK(total == table.size());
    // contains() looks only in the bucket the id's shared prefix selects.
    for (const auto& n : table.nodes()) {
        CHECK(table.contains(n.id));
        CHECK(n.id != own);
    }
}

TEST_CASE("the table never adds our own id or our own endpoint") {
    RoutingTable table(id_of(0x12));
    table.add_own_endpoint(endpoint("127.0.0.1", 6881));
    CHECK(table.node_replied({id_of(0x12), endpoint("10.0.0.1", 1)}, t0).result == Added::rejected);
    CHECK(table.node_queried({id_of(0x99), endpoint("127.0.0.1", 6881)}, t0).result ==
          Added::rejected);
    CHECK(table.node_replied({id_of(0x99), endpoint("127.0.0.1", 6882)}, t0).result ==
          Added::added);  // another program on our host is a fine node
    CHECK(table.size() == 1);
}

TEST_CASE("a known node is refreshed; a clash of id or address is refused") {
    RoutingTable table(kOwn);
    CHECK(table.node_replied(node(1, id_of(0x80)), t0).result == Added::added);
    CHECK(table.node_replied(node(1, id_of(0x80)), t0 + 1s).result == Added::updated);
    CHECK(table.node_replied({id_of(0x80), endpoint_for(2)}, t0).result == Added::rejected);
    CHECK(table.node_replied({id_of(0x81), endpoint_for(1)}, t0).result == Added::rejected);
    CHECK(table.size() == 1);
}

TEST_CASE("node states follow BEP 5 timing") {
    RoutingTable table(kOwn);
    NodeInfo replier = node(1, id_of(0x80));
    NodeInfo querier = node(2, id_of(0x81));
    table.node_replied(replier, t0);
    table.node_queried(querier, t0);
    CHECK(table.state(replier.id, t0 + 14min) == NodeState::good);
    CHECK(table.state(querier.id, t0) == NodeState::questionable);  // never replied to us
    CHECK(table.state(replier.id, t0 + 16min) == NodeState::questionable);
    // A node that replied once and queries us again is good again.
    table.node_queried(replier, t0 + 20min);
    CHECK(table.state(replier.id, t0 + 21min) == NodeState::good);
    // Two timeouts in a row make it bad; a reply makes it good again.
    table.node_timed_out(replier.endpoint, t0 + 22min);
    CHECK(table.state(replier.id, t0 + 22min) == NodeState::good);
    table.node_timed_out(replier.endpoint, t0 + 23min);
    CHECK(table.state(replier.id, t0 + 23min) == NodeState::bad);
    table.node_replied(replier, t0 + 24min);
    CHECK(table.state(replier.id, t0 + 24min) == NodeState::good);
    CHECK_FALSE(table.state(id_of(0x90), t0));
}

TEST_CASE("a full bucket of good nodes keeps them and caches the newcomer") {
    RoutingTable table(kOwn);
    fill_far_bucket(table, t0);
    table.node_replied(node(100, id_of(0x8f)), t0);  // splits; far bucket stays full
    auto outcome = table.node_replied(node(101, id_of(0x9f)), t0 + 1min);
    CHECK(outcome.result == Added::replacement);
    CHECK(outcome.to_ping.empty());  // everyone is good: nothing to check
    CHECK(table.replacement_count(0) == 2);
    CHECK_FALSE(table.contains(id_of(0x9f)));
}

TEST_CASE("questionable nodes of a full bucket are named for a ping, least recent first") {
    RoutingTable table(kOwn);
    for (std::uint8_t i = 0; i < 8; ++i)
        table.node_replied(node(i, id_of(0x80 | i)), t0 + std::chrono::seconds(8 - i));
    auto outcome = table.node_replied(node(50, id_of(0xf0)), t0 + 20min);
    CHECK(outcome.result == Added::replacement);
    REQUIRE(outcome.to_ping.size() == 8);
    CHECK(outcome.to_ping.front().id == id_of(0x87));  // seen at t0 + 1s
    CHECK(outcome.to_ping.back().id == id_of(0x80));   // seen at t0 + 8s
    CHECK(table.questionable(t0 + 20min).size() == 8);
}

TEST_CASE("a node that stops replying is replaced by the newest cached node") {
    RoutingTable table(kOwn);
    fill_far_bucket(table, t0);
    table.node_replied(node(50, id_of(0xf0)), t0 + 1min);
    table.node_replied(node(51, id_of(0xf1)), t0 + 2min);
    REQUIRE(table.replacement_count(0) == 2);
    NodeInfo silent = node(3, id_of(0x83));
    table.node_timed_out(silent.endpoint, t0 + 3min);
    CHECK(table.contains(silent.id));  // one timeout is not enough
    table.node_timed_out(silent.endpoint, t0 + 4min);
    CHECK_FALSE(table.contains(silent.id));
    CHECK(table.contains(id_of(0xf1)));
    CHECK(table.replacement_count(0) == 1);
    CHECK(table.bucket_size(0) == 8);
}

TEST_CASE("a bad node with no replacement waiting is evicted by the next newcomer") {
    RoutingTable table(kOwn);
    fill_far_bucket(table, t0);
    for (int i = 0; i < 2; ++i) table.node_timed_out(endpoint_for(5), t0 + 1min);
    CHECK(table.contains(id_of(0x85)));  // nothing to replace it with yet
    CHECK(table.node_queried(node(60, id_of(0xe0)), t0 + 2min).result == Added::added);
    CHECK_FALSE(table.contains(id_of(0x85)));
    CHECK(table.contains(id_of(0xe0)));
}

TEST_CASE("the replacement cache is bounded, dropping its oldest entry") {
    RoutingTableOptions options;
    options.replacement_size = 3;
    RoutingTable table(kOwn, options);
    fill_far_bucket(table, t0);
    for (std::uint32_t i = 0; i < 5; ++i) table.node_replied(node(40 + i, id_of(0xa0 + i)), t0);
    CHECK(table.replacement_count(0) == 3);
}

TEST_CASE("closest returns the nearest nodes that are not bad, nearest first") {
    RoutingTable table(kOwn);
    fill_far_bucket(table, t0);
    table.node_replied(node(20, id_of(0x40)), t0);
    table.node_replied(node(21, id_of(0x20)), t0);
    auto near_us = table.closest(kOwn, 3);
    REQUIRE(near_us.size() == 3);
    CHECK(near_us[0].id == id_of(0x20));
    CHECK(near_us[1].id == id_of(0x40));
    CHECK(near_us[2].id == id_of(0x80));
    auto near_far = table.closest(id_of(0x87), 2);
    CHECK(near_far[0].id == id_of(0x87));
    CHECK(near_far[1].id == id_of(0x86));
    for (int i = 0; i < 2; ++i) table.node_timed_out(endpoint_for(21), t0);
    CHECK(table.closest(kOwn, 1).front().id == id_of(0x40));
    CHECK(table.closest(kOwn, 100).size() == 9);
}

TEST_CASE("buckets unchanged for 15 minutes are stale, and refresh ids fall inside them") {
    RoutingTable table(kOwn);
    fill_far_bucket(table, t0);
    table.node_replied(node(9, id_of(0x90)), t0);  // split: two buckets
    table.node_replied(node(20, id_of(0x40)), t0 + 10min);
    CHECK(table.stale_buckets(t0 + 14min).empty());
    CHECK(table.stale_buckets(t0 + 16min) == std::vector<std::size_t>{0});
    CHECK(table.stale_buckets(t0 + 26min) == std::vector<std::size_t>{0, 1});
    std::mt19937 rng(3);
    for (int i = 0; i < 20; ++i) {
        CHECK(common_prefix_bits(kOwn, table.random_id_in_bucket(0, random_id(rng))) == 0);
        CHECK(common_prefix_bits(kOwn, table.random_id_in_bucket(1, random_id(rng))) >= 1);
    }
}

TEST_CASE("the table saves to a bencoded blob and loads back") {
    RoutingTable table(id_of(0x55));
    table.node_replied({id_of(0x80), endpoint("10.0.0.1", 1)}, t0);
    table.node_replied({id_of(0x81), endpoint("2001:db8::1", 2)}, t0);
    std::string blob = save_routing_table(table);
    auto loaded = load_routing_table(blob);
    REQUIRE(loaded);
    CHECK(loaded->id == id_of(0x55));
    CHECK(loaded->nodes == std::vector<NodeInfo>{{id_of(0x80), endpoint("10.0.0.1", 1)},
                                                 {id_of(0x81), endpoint("2001:db8::1", 2)}});
}

TEST_CASE("a damaged or oversized saved table is refused") {
    CHECK_FALSE(load_routing_table(""));
    CHECK_FALSE(load_routing_table("d2:id3:abce"));
    CHECK_FALSE(load_routing_table("de"));
    CHECK_FALSE(load_routing_table("d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes5:abcdee"));
    CHECK_FALSE(load_routing_table("d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodesi1ee"));
    std::string many;
    for (std::uint32_t i = 0; i <= kMaxSavedNodes; ++i)
        many += std::string(20, 'n') + std::string("\x0a\x00\x00\x01\x00\x01", 6);
    CHECK_FALSE(load_routing_table("d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes" +
                                   std::to_string(many.size()) + ":" + many + "e"));
    CHECK(load_routing_table("d2:id20:aaaaaaaaaaaaaaaaaaaae"));  // an empty table is fine
}

TEST_CASE("with BEP 42 enforced, public nodes need an id that fits their address") {
    RoutingTableOptions options;
    options.enforce_node_id = true;
    RoutingTable table(kOwn, options);
    auto fitting = *sha1_from_hex("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401");  // BEP 42 vector
    CHECK(table.node_replied({fitting, endpoint("124.31.75.21", 1)}, t0).result == Added::added);
    CHECK(table.node_replied({id_of(0x80), endpoint("8.8.8.8", 1)}, t0).result == Added::rejected);
    CHECK(table.node_replied({id_of(0x81), endpoint("192.168.1.9", 1)}, t0).result ==
          Added::added);  // private addresses are exempt
    RoutingTable lenient(kOwn);
    CHECK(lenient.node_replied({id_of(0x80), endpoint("8.8.8.8", 1)}, t0).result == Added::added);
}
