#include <doctest/doctest.h>

#include <random>

#include "core/peer/extensions/ut_pex.hpp"

using namespace btd::wire;
using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

namespace {

tcp::endpoint ep(const char* address, std::uint16_t port) {
    return {make_address(address), port};
}

std::string compact(std::initializer_list<std::uint8_t> bytes) {
    return std::string(bytes.begin(), bytes.end());
}

std::string str(const std::string& s) {
    return std::to_string(s.size()) + ":" + s;
}

std::vector<PexPeer> peers_10_0_0(int count, int first = 1) {
    std::vector<PexPeer> out;
    for (int i = first; i < first + count; ++i)
        out.push_back({tcp::endpoint(make_address("10.0." + std::to_string(i / 250) + "." +
                                                  std::to_string(i % 250 + 1)),
                                     6881),
                       0});
    return out;
}

}  // namespace

TEST_CASE("ut_pex encodes IPv4 and IPv6 peers into their compact lists with flags") {
    PexMessage m;
    m.added = {{ep("1.2.3.4", 0x1ae1), pex_flags::kSeed | pex_flags::kReachable},
               {ep("::1", 80), pex_flags::kSupportsUtp}};
    m.dropped = {ep("5.6.7.8", 1)};
    std::string v6(16, '\0');
    v6[15] = 1;
    std::string expected = "d5:added" + str(compact({1, 2, 3, 4, 0x1a, 0xe1})) + "7:added.f" +
                           str(compact({0x12})) + "6:added6" + str(v6 + compact({0, 80})) +
                           "8:added6.f" + str(compact({0x04})) + "7:dropped" +
                           str(compact({5, 6, 7, 8, 0, 1})) + "8:dropped60:e";
    CHECK(encode_pex(m) == expected);
}

TEST_CASE("ut_pex messages decode back to the peers and flags that were encoded") {
    PexMessage m;
    m.added = {{ep("1.2.3.4", 6881), pex_flags::kSeed},
               {ep("2001:db8::7", 51413), pex_flags::kPrefersEncryption},
               {ep("9.9.9.9", 1), 0}};
    m.dropped = {ep("5.6.7.8", 2), ep("2001:db8::8", 3)};
    auto d = decode_pex(encode_pex(m));
    // v4 first, then v6: the order the lists are read in.
    REQUIRE(d.added.size() == 3);
    CHECK(d.added[0] == m.added[0]);
    CHECK(d.added[1] == m.added[2]);
    CHECK(d.added[2] == m.added[1]);
    CHECK(d.dropped == std::vector<tcp::endpoint>{ep("5.6.7.8", 2), ep("2001:db8::8", 3)});
    CHECK(decode_pex("de").empty());
}

TEST_CASE("ut_pex flags of the wrong length are ignored, entries with port 0 skipped") {
    std::string payload = "d5:added" + str(compact({1, 1, 1, 1, 0, 9, 2, 2, 2, 2, 0, 0})) +
                          "7:added.f" + str(compact({2})) + "e";
    auto d = decode_pex(payload);
    REQUIRE(d.added.size() == 1);
    CHECK(d.added[0].endpoint == ep("1.1.1.1", 9));
    CHECK(d.added[0].flags == 0);
}

TEST_CASE("malformed ut_pex messages throw ProtocolError naming the fault") {
    auto rejects = [](const std::string& payload, const char* what) {
        CAPTURE(payload);
        CHECK_THROWS_WITH_AS(decode_pex(payload), doctest::Contains(what), ProtocolError);
    };
    rejects("", "not bencoded");
    rejects("d5:added", "not bencoded");
    rejects("le", "not a dictionary");
    rejects("d5:addedi5ee", "'added' is not a string");
    rejects("d5:added5:abcdee", "not a multiple of 6");
    rejects("d6:added66:abcdefe", "not a multiple of 18");
    rejects("d7:dropped7:abcdefge", "not a multiple of 6");
    rejects("d8:dropped6" + str(std::string(17, 'x')) + "e", "not a multiple of 18");
}

TEST_CASE("ut_pex refuses lists over the limit") {
    PexMessage big;
    big.added = peers_10_0_0(201);
    CHECK_THROWS_WITH_AS(decode_pex(encode_pex(big)), doctest::Contains("201 added"),
                         ProtocolError);
    CHECK(decode_pex(encode_pex(big), PexLimits{300, 300}).added.size() == 201);
    PexMessage dropped;
    for (const auto& p : peers_10_0_0(11)) dropped.dropped.push_back(p.endpoint);
    CHECK_THROWS_WITH_AS(decode_pex(encode_pex(dropped), PexLimits{10, 10}),
                         doctest::Contains("11 dropped"), ProtocolError);
}

TEST_CASE("the PEX tracker first sends everyone connected, then only the changes") {
    PexTracker t(ep("9.9.9.9", 1));
    std::vector<PexPeer> set = {{ep("1.1.1.1", 1), pex_flags::kSeed}, {ep("2.2.2.2", 2), 0}};
    auto first = t.update(set);
    CHECK(first.added == set);
    CHECK(first.dropped.empty());
    CHECK(t.update(set).empty());  // nothing changed

    set.erase(set.begin());
    set.push_back({ep("3.3.3.3", 3), 0});
    auto second = t.update(set);
    CHECK(second.added == std::vector<PexPeer>{{ep("3.3.3.3", 3), 0}});
    CHECK(second.dropped == std::vector<tcp::endpoint>{ep("1.1.1.1", 1)});
    CHECK(t.advertised_count() == 2);

    // A peer that comes back after being dropped is added again.
    set.push_back({ep("1.1.1.1", 1), 0});
    CHECK(t.update(set).added == std::vector<PexPeer>{{ep("1.1.1.1", 1), 0}});
}

TEST_CASE("the PEX tracker never tells a peer about itself") {
    PexTracker t(ep("1.1.1.1", 1));
    auto m = t.update({{ep("1.1.1.1", 1), 0}, {ep("1.1.1.1", 2), 0}});
    CHECK(m.added == std::vector<PexPeer>{{ep("1.1.1.1", 2), 0}});
}

TEST_CASE("the PEX tracker sends at most 50 added and 50 dropped, the rest later") {
    PexTracker t(ep("9.9.9.9", 1));
    auto set = peers_10_0_0(120);
    CHECK(t.update(set).added.size() == kPexSendLimit);
    CHECK(t.update(set).added.size() == kPexSendLimit);
    CHECK(t.update(set).added.size() == 20);
    CHECK(t.update(set).empty());
    auto gone = t.update({});
    CHECK(gone.dropped.size() == kPexSendLimit);
    CHECK(t.update({}).dropped.size() == kPexSendLimit);
    CHECK(t.update({}).dropped.size() == 20);
    CHECK(t.advertised_count() == 0);
}

TEST_CASE("mutated ut_pex messages decode or throw ProtocolError, nothing else") {
    PexMessage m;
    m.added = peers_10_0_0(5);
    m.added.push_back({ep("2001:db8::1", 7), pex_flags::kSeed});
    m.dropped = {ep("5.6.7.8", 2), ep("2001:db8::8", 3)};
    const std::string seed = encode_pex(m);
    std::mt19937 rng(11);
    int decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string s = seed;
        for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0 && !s.empty(); --edits) {
            std::size_t at = rng() % s.size();
            if (rng() % 2)
                s[at] = static_cast<char>(rng());
            else
                s.erase(at, 1);
        }
        try {
            auto d = decode_pex(s);
            CHECK(d.added.size() <= PexLimits{}.max_added);
            ++decoded;
        } catch (const ProtocolError&) {
        }
    }
    MESSAGE("ut_pex mutation: decoded " << decoded << " of 20000");
}
