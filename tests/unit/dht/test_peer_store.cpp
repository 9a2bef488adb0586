#include <doctest/doctest.h>

#include "core/dht/peer_store.hpp"
#include "dht_test_support.hpp"

using namespace btd::dht;
using namespace btd::dht::test;
using namespace std::chrono_literals;

namespace {
const PeerStore::TimePoint t0 = PeerStore::TimePoint{} + 24h;
}

TEST_CASE("announced peers are handed out by family, most recent first") {
    PeerStore store;
    store.announce(id_of(1), endpoint("10.0.0.1", 1), t0);
    store.announce(id_of(1), endpoint("10.0.0.2", 2), t0 + 1s);
    store.announce(id_of(1), endpoint("2001:db8::1", 3), t0);
    store.announce(id_of(2), endpoint("10.0.0.3", 3), t0);
    CHECK(store.peers(id_of(1), false, t0 + 2s) ==
          std::vector<Endpoint>{endpoint("10.0.0.2", 2), endpoint("10.0.0.1", 1)});
    CHECK(store.peers(id_of(1), true, t0 + 2s) ==
          std::vector<Endpoint>{endpoint("2001:db8::1", 3)});
    CHECK(store.peers(id_of(3), false, t0).empty());
    CHECK(store.torrent_count() == 2);
    // A re-announce refreshes the peer rather than adding it twice.
    store.announce(id_of(1), endpoint("10.0.0.1", 1), t0 + 3s);
    CHECK(store.peer_count(id_of(1)) == 3);
    CHECK(store.peers(id_of(1), false, t0 + 4s).front() == endpoint("10.0.0.1", 1));
}

TEST_CASE("peers expire 30 minutes after their last announce") {
    PeerStore store;
    store.announce(id_of(1), endpoint("10.0.0.1", 1), t0);
    store.announce(id_of(1), endpoint("10.0.0.2", 2), t0 + 20min);
    CHECK(store.peers(id_of(1), false, t0 + 31min) ==
          std::vector<Endpoint>{endpoint("10.0.0.2", 2)});
    store.expire(t0 + 31min);
    CHECK(store.peer_count(id_of(1)) == 1);
    store.expire(t0 + 51min);
    CHECK(store.torrent_count() == 0);
}

TEST_CASE("the store is bounded in torrents, peers per torrent and values per reply") {
    PeerStoreOptions options;
    options.max_torrents = 3;
    options.max_peers_per_torrent = 4;
    options.max_values = 2;
    PeerStore store(options);
    for (std::uint32_t i = 0; i < 6; ++i) store.announce(id_of(1), endpoint_for(i), t0 + i * 1s);
    CHECK(store.peer_count(id_of(1)) == 4);  // the two oldest were forgotten
    CHECK(store.peers(id_of(1), false, t0 + 10s) ==
          std::vector<Endpoint>{endpoint_for(5), endpoint_for(4)});
    store.announce(id_of(2), endpoint_for(10), t0);
    store.announce(id_of(2), endpoint_for(11), t0);
    store.announce(id_of(3), endpoint_for(12), t0);
    store.announce(id_of(4), endpoint_for(13), t0);  // full: the smallest torrent (3) goes
    CHECK(store.torrent_count() == 3);
    CHECK(store.peer_count(id_of(3)) == 0);
    CHECK(store.peer_count(id_of(1)) == 4);
    CHECK(store.peer_count(id_of(4)) == 1);
}
