// Peer wire codec (BEP 3, BEP 6, BEP 10): byte layouts against hand-written frames, encode/decode
// round trips for every message, malformed frames, handshakes and client names.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "core/peer/wire.hpp"

using namespace btd;
using namespace std::string_literals;

namespace {

// Bytes written out by hand, e.g. bytes({0, 0, 0, 1, 2}).
std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

// Splits a complete frame into its length prefix and body, checking the prefix matches.
std::string_view body_of(const std::string& frame) {
    REQUIRE(frame.size() >= 4);
    REQUIRE(wire::read_u32(frame.data()) == frame.size() - 4);
    return std::string_view(frame).substr(4);
}

PeerId peer_id_from(std::string_view s) {
    PeerId id{};
    REQUIRE(s.size() == id.size());
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(s[i]);
    return id;
}

Sha1Hash filled_hash(std::uint8_t first) {
    Sha1Hash h{};
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(first + i);
    return h;
}

}  // namespace

TEST_CASE("u32 helpers are big-endian") {
    std::string out;
    wire::append_u32(out, 0x01020304);
    wire::append_u32(out, 0xfffffffe);
    CHECK(out == bytes({1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe}));
    CHECK(wire::read_u32(out.data()) == 0x01020304u);
    CHECK(wire::read_u32(out.data() + 4) == 0xfffffffeu);
}

TEST_CASE("exact byte layouts (BEP 3: length prefix, id, payload)") {
    std::string out;
    SUBCASE("keep-alive is four zero bytes") {
        wire::append_keep_alive(out);
        CHECK(out == bytes({0, 0, 0, 0}));
    }
    SUBCASE("interested") {
        wire::append_simple(out, wire::MsgType::interested);
        CHECK(out == bytes({0, 0, 0, 1, 2}));
    }
    SUBCASE("have") {
        wire::append_have(out, 0x0a0b0c0d);
        CHECK(out == bytes({0, 0, 0, 5, 4, 0x0a, 0x0b, 0x0c, 0x0d}));
    }
    SUBCASE("bitfield") {
        wire::append_bitfield(out, bytes({0xff, 0x80}));
        CHECK(out == bytes({0, 0, 0, 3, 5, 0xff, 0x80}));
    }
    SUBCASE("request") {
        wire::append_request(out, wire::MsgType::request, 1, 0x4000, 0x4000);
        CHECK(out == bytes({0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0}));
    }
    SUBCASE("piece header counts the block bytes that follow") {
        wire::append_piece_header(out, 2, 3, 4);
        CHECK(out == bytes({0, 0, 0, 13, 7, 0, 0, 0, 2, 0, 0, 0, 3}));
    }
    SUBCASE("port") {
        wire::append_port(out, 6881);
        CHECK(out == bytes({0, 0, 0, 3, 9, 0x1a, 0xe1}));
    }
    SUBCASE("have_all (BEP 6)") {
        wire::append_simple(out, wire::MsgType::have_all);
        CHECK(out == bytes({0, 0, 0, 1, 14}));
    }
    SUBCASE("reject_request (BEP 6)") {
        wire::append_request(out, wire::MsgType::reject_request, 0x01000000, 0, 0x10);
        CHECK(out == bytes({0, 0, 0, 13, 16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}));
    }
    SUBCASE("extended (BEP 10)") {
        wire::append_extended(out, 0, "d1:md6:ut_pexi1eee");
        CHECK(out == bytes({0, 0, 0, 20, 20, 0}) + "d1:md6:ut_pexi1eee");
    }
    SUBCASE("encoders append, they do not overwrite") {
        wire::append_simple(out, wire::MsgType::choke);
        wire::append_simple(out, wire::MsgType::unchoke);
        CHECK(out == bytes({0, 0, 0, 1, 0, 0, 0, 0, 1, 1}));
    }
}

TEST_CASE("decodes hand-written frames") {
    auto m = wire::decode_message(bytes({4, 0, 0, 1, 0}));
    CHECK(m.type == wire::MsgType::have);
    CHECK(m.piece == 256u);

    m = wire::decode_message(bytes({6, 0, 0, 0, 7, 0, 0, 0x40, 0, 0, 0, 0x40, 0}));
    CHECK(m.type == wire::MsgType::request);
    CHECK(m.piece == 7u);
    CHECK(m.offset == 0x4000u);
    CHECK(m.length == 0x4000u);

    m = wire::decode_message(bytes({9, 0xc8, 0xd5}));
    CHECK(m.type == wire::MsgType::port);
    CHECK(m.port == 51413);
}

TEST_CASE("round trip: state messages without payload") {
    for (auto type :
         {wire::MsgType::choke, wire::MsgType::unchoke, wire::MsgType::interested,
          wire::MsgType::not_interested, wire::MsgType::have_all, wire::MsgType::have_none}) {
        CAPTURE(static_cast<int>(type));
        std::string frame;
        wire::append_simple(frame, type);
        auto m = wire::decode_message(body_of(frame));
        CHECK(m.type == type);
        CHECK(m.payload.empty());
    }
}

TEST_CASE("round trip: keep-alive") {
    std::string frame;
    wire::append_keep_alive(frame);
    auto m = wire::decode_message(body_of(frame));
    CHECK(m.type == wire::MsgType::keep_alive);
    CHECK(m.payload.empty());
}

TEST_CASE("round trip: piece-index messages (have, suggest, allowed_fast)") {
    for (std::uint32_t piece : {0u, 1u, 0x12345678u, 0xffffffffu}) {
        CAPTURE(piece);
        std::string frame;
        wire::append_have(frame, piece);
        auto m = wire::decode_message(body_of(frame));
        CHECK(m.type == wire::MsgType::have);
        CHECK(m.piece == piece);

        for (auto type : {wire::MsgType::suggest_piece, wire::MsgType::allowed_fast}) {
            frame.clear();
            wire::append_piece_index(frame, type, piece);
            m = wire::decode_message(body_of(frame));
            CHECK(m.type == type);
            CHECK(m.piece == piece);
        }
    }
}

TEST_CASE("round trip: request, cancel and reject_request") {
    for (auto type :
         {wire::MsgType::request, wire::MsgType::cancel, wire::MsgType::reject_request}) {
        CAPTURE(static_cast<int>(type));
        std::string frame;
        wire::append_request(frame, type, 0xdeadbeef, 0x00c0ffee, wire::kMaxBlockLength);
        auto m = wire::decode_message(body_of(frame));
        CHECK(m.type == type);
        CHECK(m.piece == 0xdeadbeefu);
        CHECK(m.offset == 0x00c0ffeeu);
        CHECK(m.length == wire::kMaxBlockLength);
    }
}

TEST_CASE("round trip: bitfield keeps its bytes, including zeros") {
    const std::string bits = bytes({0xff, 0x00, 0x81, 0x00});
    std::string frame;
    wire::append_bitfield(frame, bits);
    auto m = wire::decode_message(body_of(frame));
    CHECK(m.type == wire::MsgType::bitfield);
    CHECK(m.payload == bits);
}

TEST_CASE("round trip: piece with block data") {
    const std::string block = "block\0data"s + std::string(100, '\x7f');
    std::string frame;
    wire::append_piece_header(frame, 42, 16384, static_cast<std::uint32_t>(block.size()));
    frame += block;
    auto m = wire::decode_message(body_of(frame));
    CHECK(m.type == wire::MsgType::piece);
    CHECK(m.piece == 42u);
    CHECK(m.offset == 16384u);
    CHECK(m.length == block.size());
    CHECK(m.payload == block);
}

TEST_CASE("round trip: empty piece block and empty bitfield are accepted") {
    std::string frame;
    wire::append_piece_header(frame, 1, 2, 0);
    auto m = wire::decode_message(body_of(frame));
    CHECK(m.type == wire::MsgType::piece);
    CHECK(m.length == 0u);
    CHECK(m.payload.empty());

    frame.clear();
    wire::append_bitfield(frame, "");
    m = wire::decode_message(body_of(frame));
    CHECK(m.type == wire::MsgType::bitfield);
    CHECK(m.payload.empty());
}

TEST_CASE("round trip: port") {
    for (std::uint16_t port : {std::uint16_t{0}, std::uint16_t{6881}, std::uint16_t{65535}}) {
        std::string frame;
        wire::append_port(frame, port);
        auto m = wire::decode_message(body_of(frame));
        CHECK(m.type == wire::MsgType::port);
        CHECK(m.port == port);
    }
}

TEST_CASE("round trip: extended") {
    std::string frame;
    const std::string payload = "d1:v4:btd0e"s + '\0' + "tail";
    wire::append_extended(frame, 3, payload);
    auto m = wire::decode_message(body_of(frame));
    CHECK(m.type == wire::MsgType::extended);
    CHECK(m.ext_id == 3);
    CHECK(m.payload == payload);

    frame.clear();
    wire::append_extended(frame, 0, "");
    m = wire::decode_message(body_of(frame));
    CHECK(m.type == wire::MsgType::extended);
    CHECK(m.ext_id == 0);
    CHECK(m.payload.empty());
}

TEST_CASE("malformed frames throw ProtocolError") {
    SUBCASE("state messages must be exactly one byte") {
        for (int id : {0, 1, 2, 3, 14, 15}) {
            CAPTURE(id);
            CHECK_THROWS_AS(wire::decode_message(bytes({id, 0})), wire::ProtocolError);
            CHECK_THROWS_AS(wire::decode_message(bytes({id, 0, 0, 0, 0})), wire::ProtocolError);
        }
    }
    SUBCASE("piece-index messages must be exactly five bytes") {
        for (int id : {4, 13, 17}) {
            CAPTURE(id);
            CHECK_THROWS_AS(wire::decode_message(bytes({id})), wire::ProtocolError);
            CHECK_THROWS_AS(wire::decode_message(bytes({id, 0, 0, 0})), wire::ProtocolError);
            CHECK_THROWS_AS(wire::decode_message(bytes({id, 0, 0, 0, 0, 0})), wire::ProtocolError);
        }
    }
    SUBCASE("request/cancel/reject must be exactly thirteen bytes") {
        for (int id : {6, 8, 16}) {
            CAPTURE(id);
            CHECK_THROWS_AS(wire::decode_message(bytes({id})), wire::ProtocolError);
            CHECK_THROWS_AS(wire::decode_message(bytes({id}) + std::string(11, '\0')),
                            wire::ProtocolError);
            CHECK_THROWS_AS(wire::decode_message(bytes({id}) + std::string(13, '\0')),
                            wire::ProtocolError);
        }
    }
    SUBCASE("port must be exactly three bytes") {
        CHECK_THROWS_AS(wire::decode_message(bytes({9, 0x1a})), wire::ProtocolError);
        CHECK_THROWS_AS(wire::decode_message(bytes({9, 0x1a, 0xe1, 0})), wire::ProtocolError);
    }
    SUBCASE("piece shorter than its 9-byte header") {
        for (std::size_t size = 1; size < 9; ++size) {
            CAPTURE(size);
            std::string body = bytes({7}) + std::string(size - 1, '\0');
            CHECK_THROWS_AS(wire::decode_message(body), wire::ProtocolError);
        }
    }
    SUBCASE("extended without its extension id") {
        CHECK_THROWS_AS(wire::decode_message(bytes({20})), wire::ProtocolError);
    }
    SUBCASE("unknown message ids") {
        for (int id : {10, 11, 12, 18, 19, 21, 99, 255}) {
            CAPTURE(id);
            CHECK_THROWS_AS(wire::decode_message(bytes({id})), wire::ProtocolError);
        }
        CHECK_THROWS_WITH_AS(wire::decode_message(bytes({99, 1, 2})), doctest::Contains("99"),
                             wire::ProtocolError);
    }
}

TEST_CASE("handshake layout and reserved bits") {
    const auto info_hash = filled_hash(0x10);
    const auto id = peer_id_from("-BD0010-abcdefghijkl");
    const auto hs = wire::make_handshake(info_hash, id);
    CHECK(hs.supports_fast());
    CHECK(hs.supports_extended());

    const std::string raw = wire::encode_handshake(hs);
    REQUIRE(raw.size() == wire::kHandshakeSize);
    CHECK(raw[0] == 19);
    CHECK(raw.substr(1, 19) == "BitTorrent protocol");
    // Reserved bytes 20..27: extension protocol is 0x10 in byte 5, fast is 0x04 in byte 7.
    CHECK(raw.substr(20, 8) == bytes({0, 0, 0, 0, 0, 0x10, 0, 0x04}));
    CHECK(raw.substr(28, 20) == std::string(as_chars(info_hash)));
    CHECK(raw.substr(48, 20) == "-BD0010-abcdefghijkl");
}

TEST_CASE("handshake round trip") {
    wire::Handshake hs;
    hs.reserved = {1, 2, 3, 4, 5, 6, 7, 8};
    hs.info_hash = filled_hash(0xe0);
    hs.peer_id = peer_id_from("-LT2080-012345678901");
    auto back = wire::decode_handshake(wire::encode_handshake(hs));
    REQUIRE(back);
    CHECK(back->reserved == hs.reserved);
    CHECK(back->info_hash == hs.info_hash);
    CHECK(back->peer_id == hs.peer_id);
}

TEST_CASE("handshake reserved bits are read from the right bytes") {
    wire::Handshake hs;
    CHECK_FALSE(hs.supports_fast());
    CHECK_FALSE(hs.supports_extended());
    hs.reserved[7] = 0x04;
    CHECK(hs.supports_fast());
    CHECK_FALSE(hs.supports_extended());
    hs.reserved = {};
    hs.reserved[5] = 0x10;
    CHECK(hs.supports_extended());
    CHECK_FALSE(hs.supports_fast());
    // Neighbouring bits do not count (e.g. 0x01 in byte 7 is the DHT bit).
    hs.reserved = {0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff, 0xfb};
    CHECK_FALSE(hs.supports_fast());
    CHECK_FALSE(hs.supports_extended());

    std::string raw = wire::encode_handshake(wire::make_handshake(filled_hash(0), PeerId{}));
    raw[27] = 0;  // clear fast, keep extended
    auto back = wire::decode_handshake(raw);
    REQUIRE(back);
    CHECK_FALSE(back->supports_fast());
    CHECK(back->supports_extended());
}

TEST_CASE("handshake with the wrong protocol string or size is rejected") {
    const std::string good = wire::encode_handshake(wire::make_handshake(filled_hash(1), PeerId{}));
    REQUIRE(wire::decode_handshake(good));

    std::string bad = good;
    bad[1] = 'b';  // "bitTorrent protocol"
    CHECK_FALSE(wire::decode_handshake(bad));

    bad = good;
    bad[0] = 18;
    CHECK_FALSE(wire::decode_handshake(bad));

    bad = good;
    bad[19] = 'X';  // last character of the protocol string
    CHECK_FALSE(wire::decode_handshake(bad));

    CHECK_FALSE(wire::decode_handshake(std::string(wire::kHandshakeSize, '\0')));
    CHECK_FALSE(wire::decode_handshake(good.substr(0, 67)));
    CHECK_FALSE(wire::decode_handshake(good + "x"));
    CHECK_FALSE(wire::decode_handshake(""));
}

TEST_CASE("client_name") {
    CHECK(wire::client_name(peer_id_from("-LT2080-012345678901")) == "libtorrent 2.0.8.0");
    CHECK(wire::client_name(peer_id_from("-BD0010-abcdefghijkl")) == "btd 0.0.1.0");
    CHECK(wire::client_name(peer_id_from("-TR4050-abcdefghijkl")) == "Transmission 4.0.5.0");
    // Unknown two-letter code: the code itself stays visible.
    CHECK(wire::client_name(peer_id_from("-ZZ1234-abcdefghijkl")) == "ZZ 1.2.3.4");
    // Garbage: no Azureus-style dashes.
    CHECK(wire::client_name(peer_id_from("M7-2-3--abcdefghijkl")) == "unknown");
    CHECK(wire::client_name(peer_id_from("xxxxxxxxxxxxxxxxxxxx")) == "unknown");
    CHECK(wire::client_name(PeerId{}) == "unknown");
    PeerId noise{};
    for (std::size_t i = 0; i < noise.size(); ++i)
        noise[i] = static_cast<std::uint8_t>(0x9d * i + 0x80);
    CHECK(wire::client_name(noise) == "unknown");
}
