#include <doctest/doctest.h>

#include <string>
#include <vector>

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

TEST_CASE("Sha1HashLess orders info-hashes exactly as std::less does") {
    std::vector<btd::Sha1Hash> hashes;
    btd::Sha1Hash base{};
    hashes.push_back(base);
    // A difference in each byte, both ways, and at the edges of its three integer compares.
    for (std::size_t at : {0, 1, 7, 8, 9, 15, 16, 17, 19}) {
        for (std::uint8_t v : {1, 0x7f, 0x80, 0xff}) {
            auto h = base;
            h[at] = v;
            hashes.push_back(h);
            h[19] = 0xff;
            hashes.push_back(h);
        }
    }
    for (int i = 0; i < 64; ++i) hashes.push_back(btd::sha1(std::to_string(i)));
    const btd::Sha1HashLess less;
    int disagreements = 0;
    for (const auto& a : hashes)
        for (const auto& b : hashes)
            if (less(a, b) != std::less<btd::Sha1Hash>()(a, b)) ++disagreements;
    CHECK(disagreements == 0);
}
