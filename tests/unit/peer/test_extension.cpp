#include <doctest/doctest.h>

#include "core/peer/extension.hpp"

using namespace btd::wire;

TEST_CASE("BEP 6 allowed-fast set matches the specification's example") {
    std::array<std::uint8_t, 20> info_hash;
    info_hash.fill(0xaa);
    std::uint32_t ip = (80u << 24) | (4u << 16) | (4u << 8) | 200u;  // 80.4.4.200
    auto seven = allowed_fast_set(ip, info_hash, 1313, 7);
    CHECK(seven == std::vector<std::uint32_t>{1059, 431, 808, 1217, 287, 376, 1188});
    auto nine = allowed_fast_set(ip, info_hash, 1313, 9);
    CHECK(nine == std::vector<std::uint32_t>{1059, 431, 808, 1217, 287, 376, 1188, 353, 508});
    CHECK(allowed_fast_set(ip, info_hash, 3, 10).size() == 3);  // never more than the pieces
    CHECK(allowed_fast_set(ip, info_hash, 0, 10).empty());
}

TEST_CASE("extension handshake round trip") {
    ExtensionHandshake hs;
    hs.client = "btd 0.1.0";
    hs.listen_port = 6881;
    hs.request_queue = 500;
    hs.messages["ut_metadata"] = 2;
    hs.metadata_size = 31337;
    auto decoded = decode_extension_handshake(encode_extension_handshake(hs));
    REQUIRE(decoded);
    CHECK(decoded->metadata_size == 31337);
    CHECK(decoded->client == "btd 0.1.0");
    CHECK(decoded->listen_port == 6881);
    CHECK(decoded->request_queue == 500);
    CHECK(decoded->messages.at("ut_metadata") == 2);
}

TEST_CASE("malformed extension handshakes are rejected or sanitised") {
    CHECK_FALSE(decode_extension_handshake("not bencode"));
    CHECK_FALSE(decode_extension_handshake("li1ee"));  // not a dict
    auto odd = decode_extension_handshake("d1:md3:fooi999ee1:pi70000e4:reqqi-5e1:vi3ee");
    REQUIRE(odd);
    CHECK(odd->messages.empty());  // id out of range
    CHECK(odd->listen_port == 0);  // port out of range
    CHECK(odd->request_queue == 0);
    CHECK(odd->client.empty());
}
