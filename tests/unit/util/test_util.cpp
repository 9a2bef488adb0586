#include <doctest/doctest.h>

#include "core/util/bitfield.hpp"
#include "core/util/hash.hpp"
#include "core/util/peer_id.hpp"

using namespace btd;

TEST_CASE("sha1 of known vectors") {
    CHECK(to_hex(sha1(std::string_view(""))) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(to_hex(sha1(std::string_view("abc"))) == "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_CASE("hex round trip and rejection") {
    auto h = sha1(std::string_view("abc"));
    auto back = sha1_from_hex(to_hex(h));
    REQUIRE(back);
    CHECK(*back == h);
    CHECK_FALSE(sha1_from_hex("xyz"));
    CHECK_FALSE(sha1_from_hex(std::string(40, 'g')));
}

TEST_CASE("peer id is Azureus style and random") {
    auto a = make_peer_id(), b = make_peer_id();
    CHECK(std::string_view(reinterpret_cast<const char*>(a.data()), 8) ==
          std::string_view(kPeerIdPrefix.data(), kPeerIdPrefix.size()));
    CHECK(a != b);
}

TEST_CASE("the peer id prefix carries our version the way Azureus-style parsers read it") {
    auto text = [](std::string_view v) {
        auto p = azureus_prefix(v);
        return std::string(p.begin(), p.end());
    };
    CHECK(text("0.1.0") == "-BD0100-");  // read as 0.1.0.0, where "-BD0010-" read as 0.0.1.0
    CHECK(text("1.2.3") == "-BD1230-");
    CHECK(text("1.2.3.4") == "-BD1234-");
    CHECK(text("2.10.35") == "-BD2AZ0-");  // 10-35 as letters
    CHECK(text("1") == "-BD1000-");
    CHECK(text("1.99.0.0.7") == "-BD1Z00-");  // too large and too many parts
}

TEST_CASE("bitfield wire format") {
    Bitfield bf(10);
    bf.set(0);
    bf.set(9);
    CHECK(bf.count() == 2);
    CHECK(bf.bytes()[0] == 0x80);
    CHECK(bf.bytes()[1] == 0x40);
    Bitfield other(10);
    CHECK(other.assign_wire(bf.wire_bytes()));
    CHECK(other.test(9));
    CHECK(other.count() == 2);
    CHECK_FALSE(other.assign_wire(std::string("\xff\xff", 2)));  // spare bits set
    CHECK_FALSE(other.assign_wire(std::string("\xff", 1)));      // wrong length
    CHECK(bf.to_string() == "1000000001");
    bf.reset(0);
    CHECK(bf.count() == 1);
}
