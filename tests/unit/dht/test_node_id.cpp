#include <doctest/doctest.h>

#include "core/dht/node_id.hpp"
#include "dht_test_support.hpp"

using namespace btd;
using namespace btd::dht;
using namespace btd::dht::test;

namespace {

NodeId from_hex(std::string_view hex) {
    auto h = sha1_from_hex(hex);
    REQUIRE(h);
    return *h;
}

Address ip(const char* text) {
    return boost::asio::ip::make_address(text);
}

}  // namespace

TEST_CASE("XOR distance orders ids by their shared leading bits") {
    NodeId target = id_of(0x00);
    CHECK(xor_distance(id_of(0xf0, 0x0f), id_of(0x0f, 0x0f)) == id_of(0xff, 0x00));
    CHECK(closer_to(target, id_of(0x01), id_of(0x80)));
    CHECK_FALSE(closer_to(target, id_of(0x80), id_of(0x01)));
    CHECK_FALSE(closer_to(target, id_of(0x01), id_of(0x01)));  // equal: not strictly closer
    CHECK(closer_to(id_of(0xff), id_of(0xfe), id_of(0x7f)));
}

TEST_CASE("common prefix bits count the leading bits two ids share") {
    CHECK(common_prefix_bits(id_of(0x00), id_of(0x80)) == 0);
    CHECK(common_prefix_bits(id_of(0x00), id_of(0x01)) == 7);
    CHECK(common_prefix_bits(id_of(0x00), id_of(0x00, 0x40)) == 9);
    CHECK(common_prefix_bits(id_of(0x00), id_of(0x00, 0x00, 0x01)) == 159);
    CHECK(common_prefix_bits(id_of(0x12), id_of(0x12)) == 160);
}

TEST_CASE("BEP 42 node ids match the specification's test vectors") {
    struct Row {
        const char* address;
        const char* id;
    };
    // From BEP 42: the first 21 bits follow from the address and the last byte (r).
    const Row rows[] = {
        {"124.31.75.21", "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"},
        {"21.75.31.124", "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"},
        {"65.23.51.170", "a5d43220bc8f112a3d426c84764f8c2a1150e616"},
        {"84.124.73.14", "1b0321dd1bb1fe518101ceef99462b947a01ff41"},
        {"43.213.53.83", "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.address);
        NodeId expected = from_hex(row.id);
        CHECK(bep42_id_matches(expected, ip(row.address)));
        CHECK(bep42_node_id(ip(row.address), expected[19], expected) == expected);
    }
}

TEST_CASE("a BEP 42 id does not match another address, nor a tampered prefix") {
    NodeId id = from_hex("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401");
    CHECK(bep42_id_matches(id, ip("120.31.75.21")));  // differs only in masked-out bits
    CHECK_FALSE(bep42_id_matches(id, ip("21.75.31.124")));
    NodeId tampered = id;
    tampered[2] ^= 0x08;  // the 21st bit
    CHECK_FALSE(bep42_id_matches(tampered, ip("124.31.75.21")));
    NodeId low_bits = id;
    low_bits[2] ^= 0x07;  // random bits: still valid
    CHECK(bep42_id_matches(low_bits, ip("124.31.75.21")));
}

TEST_CASE("BEP 42 ids are generated and checked for IPv6 addresses too") {
    std::mt19937 rng(42);
    for (int r = 0; r < 8; ++r) {
        NodeId id = bep42_node_id(ip("2001:db8:1234:5678::1"), static_cast<std::uint8_t>(r),
                                  random_id(rng));
        CHECK(id[19] == r);
        CHECK(bep42_id_matches(id, ip("2001:db8:1234:5678::1")));
        CHECK(bep42_id_matches(id, ip("2001:db8:1234:5678:ffff::9")));  // only 64 bits count
        CHECK_FALSE(bep42_id_matches(id, ip("2a00:1450:4001:80b::200e")));
    }
}

TEST_CASE("local and private addresses are exempt from BEP 42, public ones are not") {
    for (const char* local :
         {"10.1.2.3", "127.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.3.4",
          "::1", "fe80::1", "fd00::5", "::ffff:192.168.0.1"}) {
        CAPTURE(local);
        CHECK(bep42_exempt(ip(local)));
    }
    for (const char* global :
         {"8.8.8.8", "172.32.0.1", "124.31.75.21", "2001:db8::1", "::ffff:8.8.8.8"}) {
        CAPTURE(global);
        CHECK_FALSE(bep42_exempt(ip(global)));
    }
}

TEST_CASE("random node ids differ from each other") {
    CHECK(random_node_id() != random_node_id());
}
