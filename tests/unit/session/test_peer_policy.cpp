#include "core/session/peer_policy.hpp"

#include <doctest/doctest.h>

using namespace btd;
using namespace btd::peer_policy;
using namespace std::chrono_literals;
namespace ip = boost::asio::ip;

TEST_CASE("address groups: IPv4 as is, IPv6 by /64, v4-mapped as IPv4, loopback as is") {
    CHECK(address_group(ip::make_address("203.0.113.7")) == ip::make_address("203.0.113.7"));
    CHECK(address_group(ip::make_address("2001:db8:1:2:aaaa::1")) ==
          ip::make_address("2001:db8:1:2::"));
    CHECK(address_group(ip::make_address("2001:db8:1:2:bbbb::9")) ==
          address_group(ip::make_address("2001:db8:1:2:aaaa::1")));
    CHECK(address_group(ip::make_address("2001:db8:1:3::1")) !=
          address_group(ip::make_address("2001:db8:1:2::1")));
    CHECK(address_group(ip::make_address("::ffff:198.51.100.4")) ==
          ip::make_address("198.51.100.4"));
    CHECK(address_group(ip::make_address("::1")) == ip::make_address("::1"));
}

TEST_CASE("one address gets a few slots; loopback half of them, never all") {
    SessionSettings s;
    s.max_peers_per_torrent = 60;
    s.max_peers_per_address = 4;
    CHECK(per_address_limit(ip::make_address("203.0.113.7"), s) == 4);
    CHECK(per_address_limit(ip::make_address("127.0.0.2"), s) == 30);
    CHECK(per_address_limit(ip::make_address("::1"), s) == 30);
    s.max_peers_per_torrent = 4;  // a small torrent limit: the per-address setting wins
    CHECK(per_address_limit(ip::make_address("127.0.0.1"), s) == 4);
}

TEST_CASE("incoming peers leave slots free for dialling") {
    CHECK(incoming_slot_limit(60) == 54);
    CHECK(incoming_slot_limit(10) == 8);
    CHECK(incoming_slot_limit(3) == 1);
    CHECK(incoming_slot_limit(1) == 1);
    for (int max = 1; max <= 200; ++max) {
        CHECK(incoming_slot_limit(max) >= 1);
        CHECK(incoming_slot_limit(max) <= max);
        if (max >= 3) CHECK(incoming_slot_limit(max) < max);
    }
}

TEST_CASE("ordinary failures back off from 10 s, doubling, to 5 min") {
    CHECK(redial_delay(1) == 10s);
    CHECK(redial_delay(2) == 20s);
    CHECK(redial_delay(3) == 40s);
    CHECK(redial_delay(6) == 300s);
    CHECK(redial_delay(1000) == 300s);
}

TEST_CASE("protocol violators are banned for a growing time, then for good") {
    CHECK(violation_ban(1) == 30s);
    CHECK(violation_ban(2) == 60s);
    CHECK(violation_ban(3) == 120s);
    for (int v = 1; v + 1 < kPermanentViolations; ++v)
        CHECK(*violation_ban(v + 1) > *violation_ban(v));
    CHECK_FALSE(violation_ban(kPermanentViolations).has_value());
    CHECK_FALSE(violation_ban(kPermanentViolations + 5).has_value());
}

TEST_CASE("violator bans expire, grow per violation and are kept per key") {
    ViolatorBans bans;
    Clock::time_point t0{};
    CHECK_FALSE(bans.banned("a", t0));
    CHECK(bans.record("a", t0) == 30s);
    CHECK(bans.banned("a", t0 + 29s));
    CHECK_FALSE(bans.banned("a", t0 + 30s));
    CHECK_FALSE(bans.banned("b", t0 + 1s));
    // A second violation after the ban ended (e.g. after a clean handshake): a longer ban.
    CHECK(bans.record("a", t0 + 40s) == 60s);
    CHECK(bans.banned("a", t0 + 99s));
    CHECK_FALSE(bans.banned("a", t0 + 100s));
    for (int v = 3; v < kPermanentViolations; ++v) bans.record("a", t0 + 100s);
    CHECK_FALSE(bans.record("a", t0 + 100s).has_value());
    CHECK(bans.banned("a", t0 + 1000000s));
}

TEST_CASE("the violator table stays bounded under a flood of keys") {
    ViolatorBans bans;
    Clock::time_point t0{};
    for (std::size_t i = 0; i < ViolatorBans::kMaxEntries + 50; ++i)
        bans.record("k" + std::to_string(i), t0 + std::chrono::seconds(i));
    CHECK(bans.size() == ViolatorBans::kMaxEntries);
    CHECK_FALSE(bans.banned("k0", t0 + 1s));  // the oldest went first
    CHECK(bans.banned("k" + std::to_string(ViolatorBans::kMaxEntries + 49), t0 + 1060s));
}
