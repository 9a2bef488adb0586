#include "core/session/peer_list.hpp"

#include <doctest/doctest.h>

using namespace btd;
using namespace std::chrono_literals;
namespace ip = boost::asio::ip;

namespace {
PeerList::Endpoint ep(const char* address, std::uint16_t port) {
    return {ip::make_address(address), port};
}
const auto t0 = PeerList::Clock::time_point{} + 1000s;
}  // namespace

TEST_CASE("the peer list keeps candidates from every source, bounded, without port 0") {
    TorrentTuning tuning;
    tuning.max_known_peers = 3;
    PeerList list(tuning);
    list.add({ep("10.0.0.1", 1), ep("10.0.0.2", 0), ep("10.0.0.1", 1)}, PeerSource::tracker);
    list.add({ep("10.0.0.3", 3), ep("10.0.0.4", 4), ep("10.0.0.5", 5)}, PeerSource::tracker);
    CHECK(list.size() == 3);
    auto ready = list.ready(t0);
    REQUIRE(ready.size() == 3);
    CHECK(ready[0] == ep("10.0.0.1", 1));
    CHECK(ready[2] == ep("10.0.0.4", 4));
}

TEST_CASE("a peer keeps the source that named it first") {
    TorrentTuning tuning;
    PeerList list(tuning);
    list.add({ep("10.0.0.1", 1)}, PeerSource::dht);
    list.add({ep("10.0.0.1", 1), ep("10.0.0.2", 2)}, PeerSource::pex);
    CHECK(list.source_of(ep("10.0.0.1", 1)) == PeerSource::dht);
    CHECK(list.source_of(ep("10.0.0.2", 2)) == PeerSource::pex);
    CHECK_FALSE(list.source_of(ep("10.0.0.3", 3)).has_value());
}

TEST_CASE("a full peer list drops the peer that failed most for a new one, never a good one") {
    TorrentTuning tuning;
    tuning.max_known_peers = 4;
    PeerList list(tuning);
    auto worked = ep("10.0.0.1", 1), failed_once = ep("10.0.0.2", 2),
         failed_twice = ep("10.0.0.3", 3), connected = ep("10.0.0.4", 4);
    list.add({worked, failed_once, failed_twice, connected}, PeerSource::tracker);
    auto fail = [&](const PeerList::Endpoint& e, int times) {
        for (int i = 0; i < times; ++i) {
            list.mark_dialled(e);
            list.on_closed(e, PeerList::Ending::ordinary, t0);
        }
    };
    fail(worked, 3);
    list.on_handshake(worked);  // it answered after all: its streak is over
    fail(failed_once, 1);
    fail(failed_twice, 2);
    list.mark_dialled(connected);

    list.add({ep("10.0.1.1", 1)}, PeerSource::pex);
    CHECK(list.size() == 4);
    CHECK_FALSE(list.source_of(failed_twice).has_value());  // failed most: replaced
    CHECK(list.source_of(ep("10.0.1.1", 1)) == PeerSource::pex);
    list.add({ep("10.0.1.2", 2), ep("10.0.1.3", 3)}, PeerSource::lsd);
    CHECK_FALSE(list.source_of(failed_once).has_value());
    CHECK(list.source_of(ep("10.0.1.2", 2)) == PeerSource::lsd);
    // Nothing failed is left to replace: the peer that worked, the connected one and the new
    // candidates stay, and the third new one is left out.
    CHECK_FALSE(list.source_of(ep("10.0.1.3", 3)).has_value());
    CHECK(list.source_of(worked) == PeerSource::tracker);
    CHECK(list.source_of(connected) == PeerSource::tracker);
    CHECK(list.size() == 4);
}

TEST_CASE("one endpoint named by several sources is one candidate, dialled once") {
    TorrentTuning tuning;
    PeerList list(tuning);
    auto a = ep("10.0.0.1", 6881);
    list.add({a}, PeerSource::tracker);
    list.add({a}, PeerSource::pex);
    list.add({a, a}, PeerSource::lsd);
    CHECK(list.size() == 1);
    CHECK(list.ready(t0).size() == 1);
    list.mark_dialled(a);
    list.add({a}, PeerSource::dht);  // named again while connected: still not ready
    CHECK(list.ready(t0).empty());
    CHECK(list.source_of(a) == PeerSource::tracker);
}

TEST_CASE("a dialled peer is not ready again; a failing one backs off longer each time") {
    TorrentTuning tuning;
    PeerList list(tuning);
    auto a = ep("10.0.0.1", 6881);
    list.add({a}, PeerSource::tracker);
    list.mark_dialled(a);
    CHECK(list.ready(t0).empty());
    list.on_closed(a, PeerList::Ending::ordinary, t0);
    CHECK(list.ready(t0 + 9s).empty());
    CHECK(list.ready(t0 + 10s).size() == 1);  // first redial after 10 s
    list.mark_dialled(a);
    list.on_closed(a, PeerList::Ending::ordinary, t0);
    CHECK(list.ready(t0 + 19s).empty());  // then 20 s
    CHECK(list.ready(t0 + 20s).size() == 1);
    list.on_handshake(a);  // a clean handshake ends the streak
    list.mark_dialled(a);
    list.on_closed(a, PeerList::Ending::ordinary, t0);
    CHECK(list.ready(t0 + 10s).size() == 1);
    list.mark_dialled(a);
    list.mark_disconnected(a, t0 + 10s);  // we dropped it (pause): no new back-off,
    CHECK(list.ready(t0 + 11s).empty());  // only a short pause before a redial
    CHECK(list.ready(t0 + 12s).size() == 1);
}

TEST_CASE("ourselves and a wrong torrent are never dialled again") {
    TorrentTuning tuning;
    PeerList list(tuning);
    auto self = ep("10.0.0.1", 1), wrong = ep("10.0.0.2", 2);
    list.add({self, wrong}, PeerSource::tracker);
    list.mark_dialled(self);
    list.mark_dialled(wrong);
    list.on_closed(self, PeerList::Ending::connected_to_self, t0);
    list.on_closed(wrong, PeerList::Ending::wrong_torrent, t0);
    CHECK(list.ready(t0 + 10000s).empty());
    CHECK(list.endpoint_banned(self));
    CHECK(list.endpoint_banned(wrong));
    CHECK_FALSE(list.endpoint_banned(ep("10.0.0.3", 3)));
}

TEST_CASE("a protocol violator is banned for a growing time, by endpoint and by offender key") {
    TorrentTuning tuning;
    PeerList list(tuning);
    auto a = ep("10.0.0.1", 1);
    list.add({a}, PeerSource::tracker);
    list.mark_dialled(a);
    auto ban = list.record_violation("10.0.0.1", a, t0);
    list.on_closed(a, PeerList::Ending::protocol_violation, t0);
    REQUIRE(ban);
    CHECK(*ban == 30s);
    CHECK(list.violator_banned("10.0.0.1", t0 + 29s));
    CHECK_FALSE(list.violator_banned("10.0.0.1", t0 + 30s));
    CHECK(list.ready(t0 + 29s).empty());
    CHECK(list.ready(t0 + 30s).size() == 1);
    list.mark_dialled(a);
    ban = list.record_violation("10.0.0.1", a, t0);
    CHECK(*ban == 60s);  // a clean handshake in between would not reset it either
    // An incoming violator (not dialled) is banned by its key alone.
    ban = list.record_violation("10.0.0.9", std::nullopt, t0);
    CHECK(*ban == 30s);
    CHECK(list.violator_banned("10.0.0.9", t0));
    for (int i = 0; i < peer_policy::kPermanentViolations; ++i)
        ban = list.record_violation("10.0.0.9", std::nullopt, t0);
    CHECK_FALSE(ban.has_value());  // for good
    CHECK(list.violator_banned("10.0.0.9", t0 + 100000s));
}

TEST_CASE("strikes for bad pieces ban an offender once, a lone sender twice as fast") {
    TorrentTuning tuning;  // ban_strikes = 4
    PeerList list(tuning);
    CHECK(list.add_strikes({"a", "b"}).empty());
    CHECK(list.add_strikes({"a", "b"}).empty());
    CHECK(list.add_strikes({"a", "b", "c"}).empty());
    auto banned = list.add_strikes({"a", "c"});
    CHECK(banned == std::vector<std::string>{"a"});  // 4 strikes
    CHECK(list.bad_data_banned("a"));
    CHECK_FALSE(list.bad_data_banned("c"));
    CHECK(list.add_strikes({"c"}) == std::vector<std::string>{"c"});  // alone: 2 strikes
    CHECK(list.add_strikes({"a"}).empty());                           // banned only once
    CHECK(list.add_strikes({"d"}).empty());
    CHECK(list.add_strikes({"d"}) == std::vector<std::string>{"d"});
}

TEST_CASE("offender keys: the address, or on loopback the address and the peer id") {
    PeerId id{};
    id[0] = 0xab;
    CHECK(PeerList::offender_key(ep("203.0.113.7", 1), id) == "203.0.113.7");
    CHECK(PeerList::offender_key(ep("203.0.113.7", 2), id) == "203.0.113.7");
    auto local = PeerList::offender_key(ep("127.0.0.1", 1), id);
    CHECK(local.rfind("127.0.0.1/ab", 0) == 0);
    PeerId other{};
    CHECK(PeerList::offender_key(ep("127.0.0.1", 1), other) != local);
    CHECK(endpoint_string(ep("::1", 5)) == "[::1]:5");
    CHECK(endpoint_string(ep("10.1.2.3", 80)) == "10.1.2.3:80");
}
