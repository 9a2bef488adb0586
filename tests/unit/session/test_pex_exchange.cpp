#include "core/session/pex_exchange.hpp"

#include <doctest/doctest.h>

using namespace btd;
using namespace std::chrono_literals;
namespace ip = boost::asio::ip;

namespace {
PexExchange::Endpoint ep(const char* address, std::uint16_t port) {
    return {ip::make_address(address), port};
}
wire::ExtensionHandshake pex_handshake(int id = 3, std::uint16_t listen_port = 0) {
    wire::ExtensionHandshake ext;
    ext.messages["ut_pex"] = id;
    ext.listen_port = listen_port;
    return ext;
}
const auto t0 = PexExchange::Clock::time_point{} + 1000s;
}  // namespace

TEST_CASE("PEX tells each peer what changed, at most once a minute, never about itself") {
    PexExchange pex;
    auto remote = ep("10.0.0.1", 6881), a = ep("10.0.0.2", 2), b = ep("10.0.0.3", 3);
    CHECK(pex.on_handshake(PeerKey{1}, remote, false, pex_handshake(3)) == remote);

    auto first = pex.due({{remote, 0}, {a, wire::pex_flags::kSeed}}, t0);
    REQUIRE(first.size() == 1);
    CHECK(first[0].peer == PeerKey{1});
    CHECK(first[0].ext_id == 3);  // under the peer's id, not ours
    auto told = wire::decode_pex(first[0].payload);
    REQUIRE(told.added.size() == 1);  // not the peer itself
    CHECK(told.added[0].endpoint == a);
    CHECK(told.added[0].flags == wire::pex_flags::kSeed);
    CHECK(told.dropped.empty());

    // Within the minute nothing goes out, whatever changes.
    CHECK(pex.due({{remote, 0}, {b, 0}}, t0 + 59s).empty());
    auto second = pex.due({{remote, 0}, {b, 0}}, t0 + 60s);
    REQUIRE(second.size() == 1);
    told = wire::decode_pex(second[0].payload);
    REQUIRE(told.added.size() == 1);
    CHECK(told.added[0].endpoint == b);
    REQUIRE(told.dropped.size() == 1);
    CHECK(told.dropped[0] == a);

    // Nothing new: no message, and the minute does not restart, so a change goes out at once.
    CHECK(pex.due({{remote, 0}, {b, 0}}, t0 + 200s).empty());
    auto third = pex.due({{remote, 0}, {b, 0}, {a, 0}}, t0 + 201s);
    REQUIRE(third.size() == 1);
    CHECK(wire::decode_pex(third[0].payload).added.at(0).endpoint == a);
    CHECK(pex.due({{remote, 0}}, t0 + 202s).empty());  // a and b dropped: next minute
}

TEST_CASE("PEX sends nothing to a peer that did not offer it or turned it off") {
    PexExchange pex;
    auto a = ep("10.0.0.2", 2);
    wire::ExtensionHandshake none;
    pex.on_handshake(PeerKey{1}, ep("10.0.0.1", 1), false, none);
    pex.on_handshake(PeerKey{2}, ep("10.0.0.9", 9), false, pex_handshake(1));
    pex.on_handshake(PeerKey{2}, ep("10.0.0.9", 9), false, pex_handshake(0));  // turned off
    CHECK(pex.due({{a, 0}}, t0).empty());
    pex.on_handshake(PeerKey{2}, ep("10.0.0.9", 9), false, pex_handshake(7));  // on again
    auto out = pex.due({{a, 0}}, t0);
    REQUIRE(out.size() == 1);
    CHECK(out[0].ext_id == 7);
    pex.forget(PeerKey{2});
    CHECK(pex.due({{a, 0}, {ep("10.0.0.3", 3), 0}}, t0 + 120s).empty());
}

TEST_CASE("an incoming peer listens where its handshake says, or is not advertised") {
    PexExchange pex;
    auto conn = ep("10.0.0.5", 50123);
    CHECK_FALSE(pex.on_handshake(PeerKey{1}, conn, true, pex_handshake(1, 0)).has_value());
    CHECK_FALSE(pex.listen_endpoint(PeerKey{1}).has_value());
    CHECK(pex.on_handshake(PeerKey{1}, conn, true, pex_handshake(1, 6881)) == ep("10.0.0.5", 6881));
    CHECK(pex.listen_endpoint(PeerKey{1}) == ep("10.0.0.5", 6881));
    // It is not told about itself at its listen endpoint either.
    CHECK(pex.due({{ep("10.0.0.5", 6881), 0}}, t0).empty());
}

TEST_CASE("received PEX: peers added, at most 6 messages a minute used, malformed throws") {
    PexExchange pex;
    pex.on_handshake(PeerKey{1}, ep("10.0.0.1", 1), false, pex_handshake());
    wire::PexMessage m;
    m.added = {{ep("10.0.0.7", 7), wire::pex_flags::kReachable}};
    auto payload = wire::encode_pex(m);
    for (int i = 0; i < 6; ++i) CHECK(pex.on_message(PeerKey{1}, payload, t0 + 1s * i).size() == 1);
    CHECK(pex.on_message(PeerKey{1}, payload, t0 + 10s).empty());  // a seventh in the minute
    auto later = pex.on_message(PeerKey{1}, payload, t0 + 60s);    // the first has aged out
    REQUIRE(later.size() == 1);
    CHECK(later[0].endpoint == ep("10.0.0.7", 7));
    CHECK(later[0].flags == wire::pex_flags::kReachable);
    CHECK_THROWS_AS(pex.on_message(PeerKey{1}, "d5:added3:abce", t0 + 200s), wire::ProtocolError);
    CHECK(pex.on_message(PeerKey{9}, payload, t0).empty());  // no handshake: not used
}
