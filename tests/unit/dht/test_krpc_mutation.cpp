#include <doctest/doctest.h>

#include <random>

#include "core/dht/krpc.hpp"
#include "dht_test_support.hpp"

using namespace btd;
using namespace btd::dht;
using namespace btd::dht::test;

namespace {

std::vector<std::string> valid_packets() {
    std::vector<std::string> out = {
        "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
        "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
        "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:"
        "y1:qe",
        "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:"
        "porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
        "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:"
        "re",
    };
    Response r;
    r.id = id_of(0x42, 0x17, 0x99);
    for (std::uint32_t i = 0; i < 8; ++i) r.nodes.push_back({id_of(i, i, i), endpoint_for(i)});
    r.nodes.push_back({id_of(9), endpoint("2001:db8::9", 9)});
    r.values = {endpoint("1.2.3.4", 5), endpoint("2001:db8::1", 6)};
    r.token = "token!";
    out.push_back(encode_krpc(Message{"tx01", r, endpoint("198.51.100.7", 7), false, "LT20"}));
    Query q;
    q.method = Method::get_peers;
    q.id = id_of(1, 2, 3);
    q.target = id_of(4, 5, 6);
    q.want_v4 = q.want_v6 = true;
    out.push_back(encode_krpc(Message{std::string("\x00\xff", 2), q, std::nullopt, true, "BD"}));
    return out;
}

std::string mutate(std::string packet, std::mt19937& rng) {
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < edits; ++i) {
        std::size_t at = packet.empty() ? 0 : rng() % packet.size();
        switch (rng() % 5) {
            case 0:  // flip bits
                if (!packet.empty())
                    packet[at] = static_cast<char>(packet[at] ^ (1 << (rng() % 8)));
                break;
            case 1:  // insert a random or structural byte
                packet.insert(packet.begin() + static_cast<std::ptrdiff_t>(at),
                              rng() % 2 ? static_cast<char>(rng()) : "deil:0123456789"[rng() % 15]);
                break;
            case 2:  // delete a byte
                if (!packet.empty()) packet.erase(at, 1);
                break;
            case 3:  // replace with a digit (string lengths, integers)
                if (!packet.empty()) packet[at] = static_cast<char>('0' + rng() % 10);
                break;
            case 4:  // truncate
                packet.resize(at);
                break;
        }
    }
    return packet;
}

}  // namespace

TEST_CASE("mutated KRPC packets are either rejected or decode to a message that round-trips") {
    auto seeds = valid_packets();
    for (const auto& seed : seeds) REQUIRE(std::holds_alternative<Message>(decode_krpc(seed)));
    std::mt19937 rng(20261130);
    int accepted = 0, rejected = 0, mismatches = 0;
    const KrpcLimits limits;
    for (int i = 0; i < 100000; ++i) {
        std::string packet = mutate(seeds[rng() % seeds.size()], rng);
        auto result = decode_krpc(packet);
        auto* message = std::get_if<Message>(&result);
        if (!message) {
            ++rejected;
            continue;
        }
        ++accepted;
        CHECK(message->transaction_id.size() <= limits.max_transaction_id);
        if (auto* r = std::get_if<Response>(&message->body)) {
            CHECK(r->nodes.size() <= 2 * limits.max_nodes);
            CHECK(r->values.size() <= limits.max_values);
        }
        auto again = decode_krpc(encode_krpc(*message));
        auto* second = std::get_if<Message>(&again);
        if (!second || !(*second == *message)) ++mismatches;
    }
    MESSAGE("KRPC mutation: accepted " << accepted << ", rejected " << rejected);
    CHECK(mismatches == 0);
    CHECK(accepted > 1000);  // the mutations do reach the field checks, not only the bencode
    CHECK(rejected > 1000);
}
