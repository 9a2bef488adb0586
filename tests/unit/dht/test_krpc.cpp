#include <doctest/doctest.h>

#include "core/dht/krpc.hpp"
#include "dht_test_support.hpp"

using namespace btd;
using namespace btd::dht;
using namespace btd::dht::test;

namespace {

const NodeId kQuerier = id_from_string("abcdefghij0123456789");
const NodeId kOther = id_from_string("mnopqrstuvwxyz123456");

Message decoded(std::string_view packet) {
    auto result = decode_krpc(packet);
    if (auto* f = std::get_if<DecodeFailure>(&result)) FAIL("decode failed: " << f->reason);
    return std::get<Message>(result);
}

DecodeFailure failure(std::string_view packet, const KrpcLimits& limits = {}) {
    auto result = decode_krpc(packet, limits);
    REQUIRE(std::holds_alternative<DecodeFailure>(result));
    return std::get<DecodeFailure>(result);
}

}  // namespace

TEST_CASE("the BEP 5 example messages decode and re-encode byte for byte") {
    const char* examples[] = {
        "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
        "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
        "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:"
        "y1:qe",
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:"
        "aa1:y1:qe",
        "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:"
        "porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
        "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:"
        "re",
    };
    for (const char* packet : examples) {
        CAPTURE(packet);
        CHECK(encode_krpc(decoded(packet)) == packet);
    }
}

TEST_CASE("queries decode into their method and arguments") {
    auto ping = decoded("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
    CHECK(ping.transaction_id == "aa");
    auto& q = std::get<Query>(ping.body);
    CHECK(q.method == Method::ping);
    CHECK(q.id == kQuerier);

    auto announce = std::get<Query>(
        decoded("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:"
                "mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:"
                "y1:qe")
            .body);
    CHECK(announce.method == Method::announce_peer);
    CHECK(announce.target == kOther);
    CHECK(announce.port == 6881);
    CHECK(announce.implied_port);
    CHECK(announce.token == "aoeusnth");
}

TEST_CASE("responses carry IPv4 and IPv6 nodes, peer values and a token") {
    Response r;
    r.id = kOther;
    r.nodes = {{id_of(1), endpoint("1.2.3.4", 6881)},
               {id_of(2), endpoint("2001:db8::1", 6882)},
               {id_of(3), endpoint("5.6.7.8", 1)}};
    r.values = {endpoint("9.9.9.9", 80), endpoint("::1", 443)};
    r.token = "tok";
    Message m{"xy", r, endpoint("203.0.113.5", 4000), false, "BD01"};
    std::string packet = encode_krpc(m);
    CHECK(packet.find("5:nodes52:") != std::string::npos);   // two IPv4 nodes of 26 bytes
    CHECK(packet.find("6:nodes638:") != std::string::npos);  // one IPv6 node of 38 bytes
    auto back = decoded(packet);
    CHECK(back.transaction_id == "xy");
    CHECK(back.version == "BD01");
    REQUIRE(back.requester);
    CHECK(*back.requester == endpoint("203.0.113.5", 4000));
    auto& br = std::get<Response>(back.body);
    // IPv4 nodes come first, then IPv6.
    CHECK(br.nodes == std::vector<NodeInfo>{r.nodes[0], r.nodes[2], r.nodes[1]});
    CHECK(br.values == r.values);
    CHECK(br.token == "tok");
}

TEST_CASE("find_node and get_peers carry BEP 32 'want' and BEP 43 read-only") {
    Query q;
    q.method = Method::find_node;
    q.id = kQuerier;
    q.target = kOther;
    q.want_v4 = true;
    q.want_v6 = true;
    Message m{"t1", q, std::nullopt, true, ""};
    std::string packet = encode_krpc(m);
    CHECK(packet.find("4:wantl2:n42:n6e") != std::string::npos);
    CHECK(packet.find("2:roi1e") != std::string::npos);
    CHECK(decoded(packet) == m);
}

TEST_CASE("errors decode with their code and a message cut to a bounded length") {
    Message m{"e1", Error{203, std::string(1000, 'x')}, std::nullopt, false, ""};
    auto back = decoded(encode_krpc(m));
    auto& e = std::get<Error>(back.body);
    CHECK(e.code == 203);
    CHECK(e.message.size() == KrpcLimits{}.max_error_message);
}

TEST_CASE("an unknown method is reported as error 204 with the transaction id") {
    auto f = failure("d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:zz1:y1:qe");
    CHECK(f.code == error_code::kMethodUnknown);
    CHECK(f.transaction_id == "zz");
}

TEST_CASE("malformed messages come back as failures naming the fault, never as exceptions") {
    auto fails = [](std::string_view packet, const char* what, std::string_view tid = "") {
        CAPTURE(packet);
        auto f = failure(packet);
        CHECK(f.reason.find(what) != std::string::npos);
        CHECK(f.transaction_id == tid);
        CHECK(f.code == error_code::kProtocol);
    };
    fails("", "not bencoded");
    fails("d1:t2:aa", "not bencoded");
    fails("i5e", "not a dictionary");
    fails("d1:y1:qe", "transaction id");
    fails("d1:t0:1:y1:qe", "transaction id");
    fails("d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe", "transaction id");
    fails("d1:t2:aa1:y1:xe", "type 'y'", "aa");
    fails("d1:t2:aa1:y2:qqe", "type 'y'", "aa");
    fails("d1:q4:ping1:t2:aa1:y1:qe", "no 'a'", "aa");
    fails("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", "20-byte", "aa");
    fails("d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe", "'target'", "aa");
    fails(
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:"
        "xe1:q13:announce_peer1:t2:aa1:y1:qe",
        "'port'", "aa");
    fails(
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti1ee1:q13:"
        "announce_peer1:t2:aa1:y1:qe",
        "'token'", "aa");
    fails("d1:rd2:id20:mnopqrstuvwxyz1234565:nodes5:abcdee1:t2:aa1:y1:re", "multiple of 26", "aa");
    fails("d1:rd2:id20:mnopqrstuvwxyz1234566:valuesl5:abcdeee1:t2:aa1:y1:re", "compact peer", "aa");
    fails("d1:rd2:id20:mnopqrstuvwxyz1234566:valuesi1ee1:t2:aa1:y1:re", "not a list", "aa");
    fails("d1:eli201ee1:t2:aa1:y1:ee", "code and a message", "aa");
    fails("d1:e3:abc1:t2:aa1:y1:ee", "code and a message", "aa");
}

TEST_CASE("size and count limits turn oversized messages into failures") {
    KrpcLimits small;
    small.max_packet = 20;
    CHECK(failure("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", small)
              .reason.find("over the limit") != std::string::npos);

    Response r;
    r.id = kOther;
    for (std::uint32_t i = 0; i < 33; ++i) r.nodes.push_back({id_of(1, 0, 1), endpoint_for(i)});
    auto many_nodes = encode_krpc(Message{"aa", r, std::nullopt, false, ""});
    CHECK(failure(many_nodes).reason.find("more than 32 nodes") != std::string::npos);

    Response v;
    v.id = kOther;
    for (std::uint32_t i = 0; i < 201; ++i) v.values.push_back(endpoint_for(i));
    auto many_values = encode_krpc(Message{"aa", v, std::nullopt, false, ""});
    CHECK(failure(many_values).reason.find("more than 200 peers") != std::string::npos);

    std::string deep = "d1:ad2:id20:abcdefghij01234567894:wantllll2:n4eeeee1:q4:ping1:t2:aa1:y1:qe";
    CHECK(failure(deep).reason.find("not bencoded") != std::string::npos);
}

TEST_CASE("nodes and values with port 0 are dropped, odd extra keys ignored") {
    std::string zero_port_node =
        std::string(as_chars(id_of(7))) + std::string("\x01\x02\x03\x04\x00\x00", 6);
    std::string packet = "d1:rd2:id20:mnopqrstuvwxyz1234565:nodes26:" + zero_port_node +
                         "6:valuesl6:" + std::string("\x01\x01\x01\x01\x00\x00", 6) +
                         "ee1:t2:aa1:x3:abc1:y1:re";
    auto m = decoded(packet);
    auto& r = std::get<Response>(m.body);
    CHECK(r.nodes.empty());
    CHECK(r.values.empty());
}

TEST_CASE("compact node info is 26 bytes for IPv4 and 38 for IPv6") {
    std::vector<NodeInfo> nodes = {{id_of(1), endpoint("10.0.0.1", 0x1234)},
                                   {id_of(2), endpoint("fe80::2", 0x5678)}};
    std::string v4 = compact_nodes(nodes, false);
    std::string v6 = compact_nodes(nodes, true);
    CHECK(v4.size() == 26);
    CHECK(v6.size() == 38);
    CHECK(v4.substr(20) == std::string("\x0a\x00\x00\x01\x12\x34", 6));
    CHECK(*parse_compact_nodes(v4, false) == std::vector<NodeInfo>{nodes[0]});
    CHECK(*parse_compact_nodes(v6, true) == std::vector<NodeInfo>{nodes[1]});
    CHECK_FALSE(parse_compact_nodes(v4 + "x", false));
    CHECK_FALSE(parse_compact_nodes(v4, true));
    CHECK(parse_compact_nodes("", false)->empty());
    CHECK(*parse_compact_endpoint(compact_endpoint(endpoint("::1", 9))) == endpoint("::1", 9));
    CHECK_FALSE(parse_compact_endpoint("12345"));
}
