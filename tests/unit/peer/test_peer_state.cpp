#include "core/peer/peer_state.hpp"

#include <doctest/doctest.h>

#include "core/peer/wire.hpp"
#include "core/util/peer_id.hpp"

using namespace btd;
using namespace std::chrono_literals;

namespace {

const auto t0 = PeerState::Clock::time_point{} + 1000s;

PeerId peer_id(std::string_view prefix) {
    PeerId id{};
    for (std::size_t i = 0; i < id.size(); ++i)
        id[i] = static_cast<std::uint8_t>(i < prefix.size() ? prefix[i] : 'x');
    return id;
}

}  // namespace

TEST_CASE("a new peer: both sides choke, nobody is interested, it has nothing") {
    PeerState st(PeerKey{7}, 10, t0);
    CHECK(st.key() == PeerKey{7});
    CHECK(st.am_choking());
    CHECK(st.peer_choking());
    CHECK_FALSE(st.am_interested());
    CHECK_FALSE(st.peer_interested());
    CHECK(st.pieces().size() == 10);
    CHECK(st.pieces().none());
    CHECK_FALSE(st.is_seed());
    CHECK(st.requests().empty());
    CHECK(st.last_block() == t0);  // the snub clock starts at the connection
    CHECK(st.flags() == "c");
}

TEST_CASE("choke and interest setters report a change only once, so one message is sent") {
    PeerState st(PeerKey{1}, 4, t0);
    CHECK(st.set_am_interested(true));
    CHECK_FALSE(st.set_am_interested(true));
    CHECK(st.set_am_choking(false, t0 + 5s));
    CHECK_FALSE(st.set_am_choking(false, t0 + 9s));
    CHECK(st.last_unchoked() == t0 + 5s);  // the first unchoke counts, not the repeat
    st.set_optimistic(true);
    CHECK(st.set_am_choking(true, t0 + 10s));
    CHECK_FALSE(st.optimistic());  // a choked peer holds no optimistic slot
}

TEST_CASE("pieces: have adds once, a bitfield or have_all replaces and hands back the old one") {
    PeerState st(PeerKey{1}, 4, t0);
    CHECK(st.add_piece(2));
    CHECK_FALSE(st.add_piece(2));
    CHECK(st.pieces().test(2));

    Bitfield all(4);
    all.set_all();
    auto old = st.replace_pieces(all, true);
    CHECK(old.count() == 1);
    CHECK(old.test(2));
    CHECK(st.is_seed());

    auto before = st.replace_pieces(Bitfield(4), false);  // have_none
    CHECK(before.all());
    CHECK_FALSE(st.is_seed());
}

TEST_CASE("requests: kept in order, removed by block, and a reject ends one by piece and offset") {
    PeerState st(PeerKey{1}, 4, t0);
    BlockRef a{0, 0, kBlockSize}, b{0, kBlockSize, kBlockSize}, c{1, 0, kBlockSize};
    st.add_request(a, t0);
    st.add_request(b, t0 + 1s);
    st.add_request(c, t0 + 2s);
    CHECK(st.flags() == "Dc");
    CHECK(st.requests().front().block == a);

    CHECK(st.remove_request(b));
    CHECK_FALSE(st.remove_request(b));  // not outstanding any more
    CHECK_FALSE(st.take_request(0, kBlockSize));
    auto taken = st.take_request(1, 0);
    REQUIRE(taken);
    CHECK(*taken == c);
    CHECK(st.requests().size() == 1);

    st.clear_requests();
    CHECK(st.requests().empty());
}

TEST_CASE("allowed-fast pieces from the peer: no duplicates, at most the limit") {
    PeerState st(PeerKey{1}, 100, t0);
    st.add_allowed_fast_in(5, 2);
    st.add_allowed_fast_in(5, 2);
    st.add_allowed_fast_in(9, 2);
    st.add_allowed_fast_in(11, 2);
    CHECK(st.allowed_fast_in() == std::vector<std::uint32_t>{5, 9});
}

TEST_CASE("a delivered block ends a snub; payload both ways is counted") {
    PeerState st(PeerKey{1}, 4, t0);
    st.snub();
    CHECK(st.snubbed());
    st.on_block_received(t0 + 30s);
    CHECK_FALSE(st.snubbed());
    CHECK(st.last_block() == t0 + 30s);

    st.add_downloaded(100);
    st.add_uploaded(40, t0 + 31s);
    CHECK(st.last_upload() == t0 + 31s);
    st.tick();
    CHECK(st.download().total() == 100);
    CHECK(st.upload().total() == 40);
    CHECK(st.download().rate() == 100);
}

TEST_CASE("client name: from the peer id, replaced by the extension handshake's v") {
    PeerState st(PeerKey{1}, 4, t0);
    st.set_client_from_peer_id(peer_id("-TR3000-"));
    CHECK(st.client() == "Transmission 3.0.0.0");

    // aria2's peer id ("A2-1-36-0-") is not Azureus style; its `v` says who it is.
    st.set_client_from_peer_id(peer_id("A2-1-36-0-"));
    CHECK(st.client() == "unknown");
    wire::ExtensionHandshake ext;
    ext.client = "aria2/1.36.0";
    ext.request_queue = 100;
    st.on_extension_handshake(ext);
    CHECK(st.client() == "aria2/1.36.0");
    CHECK(st.request_limit() == 100);

    ext.client = "";  // no `v`: the name stays
    ext.request_queue = 0;
    st.on_extension_handshake(ext);
    CHECK(st.client() == "aria2/1.36.0");
    CHECK(st.request_limit() == 100);

    ext.client = std::string("evil\n\x1b[2Jname");
    st.on_extension_handshake(ext);
    CHECK(st.client() == "evil??[2Jname");  // no control characters reach logs or RPC
}

TEST_CASE("our own peer id reads as our version") {
    // Major, minor, patch and a build part of 0: "0.1.0" reads as "0.1.0.0".
    CHECK(wire::client_name(make_peer_id()) == "btd " + std::string(kClientVersion) + ".0");
}

TEST_CASE("flags: D U c i s O as documented for torrent.get") {
    PeerState st(PeerKey{1}, 4, t0);
    st.set_peer_choking(false);
    CHECK(st.flags().empty());
    st.set_peer_interested(true);
    CHECK(st.flags().empty());  // interested but choked: no upload
    st.set_am_choking(false, t0);
    CHECK(st.flags() == "U");
    st.set_optimistic(true);
    st.set_am_interested(true);
    st.snub();
    st.add_request({0, 0, kBlockSize}, t0);
    CHECK(st.flags() == "DUisO");
    st.set_peer_choking(true);
    CHECK(st.flags() == "DUcisO");
}
