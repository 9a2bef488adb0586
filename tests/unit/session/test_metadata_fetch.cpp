#include "core/session/metadata_fetch.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/util/hash.hpp"

using namespace btd;

namespace {

// An "info dictionary" of `size` bytes (its content does not matter to the fetch) and the
// info-hash that names it.
struct Info {
    std::string bytes;
    Sha1Hash hash;
    explicit Info(std::size_t size) : bytes(size, 'x') {
        for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + i % 26);
        hash = sha1(std::string_view(bytes));
    }
    wire::MetadataMessage piece(std::uint32_t index, bool corrupt = false) const {
        wire::MetadataMessage m;
        m.type = wire::MetadataMsgType::data;
        m.piece = index;
        m.total_size = static_cast<std::int64_t>(bytes.size());
        auto begin = static_cast<std::size_t>(index) * wire::kMetadataPieceSize;
        m.data = bytes.substr(begin, wire::kMetadataPieceSize);
        if (corrupt) m.data[0] ^= 1;
        return m;
    }
};

const auto kNow = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);

}  // namespace

TEST_CASE("metadata pieces are spread over peers, at most two in flight each") {
    Info info(5 * 16384 + 10);  // 6 pieces
    MetadataFetch fetch(info.hash);
    fetch.add_peer(1, static_cast<std::int64_t>(info.bytes.size()));
    fetch.add_peer(2, static_cast<std::int64_t>(info.bytes.size()));
    CHECK(fetch.requests_for(1, kNow) == std::vector<std::uint32_t>{0, 1});
    CHECK(fetch.requests_for(2, kNow) == std::vector<std::uint32_t>{2, 3});
    CHECK(fetch.requests_for(1, kNow).empty());  // two in flight already
    CHECK(fetch.on_data(1, info.piece(0)).ban.empty());
    CHECK(fetch.requests_for(1, kNow) == std::vector<std::uint32_t>{4});
}

TEST_CASE("the verified info dictionary comes out once every piece arrived") {
    Info info(16384 + 1);
    MetadataFetch fetch(info.hash);
    fetch.add_peer(7, static_cast<std::int64_t>(info.bytes.size()));
    auto asked = fetch.requests_for(7, kNow);
    REQUIRE(asked.size() == 2);
    CHECK_FALSE(fetch.on_data(7, info.piece(1)).metadata);
    auto done = fetch.on_data(7, info.piece(0));
    REQUIRE(done.metadata);
    CHECK(*done.metadata == info.bytes);
    CHECK(done.ban.empty());
}

TEST_CASE("a peer whose pieces alone fail the hash check is banned, and a good one finishes") {
    Info info(100);
    MetadataFetch fetch(info.hash);
    fetch.add_peer(1, 100);
    fetch.add_peer(2, 100);
    CHECK(fetch.requests_for(1, kNow) == std::vector<std::uint32_t>{0});
    auto bad = fetch.on_data(1, info.piece(0, true));
    CHECK(bad.ban == std::vector<MetadataFetch::PeerKey>{1});
    CHECK_FALSE(bad.metadata);
    CHECK_FALSE(fetch.has_peer(1));
    fetch.add_peer(1, 100);  // it reconnects: still banned
    CHECK_FALSE(fetch.has_peer(1));
    CHECK(fetch.requests_for(2, kNow) == std::vector<std::uint32_t>{0});
    auto good = fetch.on_data(2, info.piece(0));
    REQUIRE(good.metadata);
    CHECK(*good.metadata == info.bytes);
}

TEST_CASE("a piece of the wrong total size bans its sender at once") {
    Info info(100);
    MetadataFetch fetch(info.hash);
    fetch.add_peer(1, 100);
    fetch.requests_for(1, kNow);
    auto msg = info.piece(0);
    msg.total_size = 200;
    auto answer = fetch.on_data(1, msg);
    CHECK(answer.ban == std::vector<MetadataFetch::PeerKey>{1});
}

TEST_CASE("a peer claiming another size waits until the first size failed") {
    Info info(100);
    MetadataFetch fetch(info.hash);
    fetch.add_peer(1, 50);  // a liar about the size, asked first
    fetch.add_peer(2, 100);
    CHECK(fetch.requests_for(1, kNow) == std::vector<std::uint32_t>{0});
    CHECK(fetch.requests_for(2, kNow).empty());
    wire::MetadataMessage lie;
    lie.type = wire::MetadataMsgType::data;
    lie.total_size = 50;
    lie.data = std::string(50, 'z');
    CHECK(fetch.on_data(1, lie).ban == std::vector<MetadataFetch::PeerKey>{1});
    CHECK(fetch.requests_for(2, kNow) == std::vector<std::uint32_t>{0});
    CHECK(fetch.on_data(2, info.piece(0)).metadata);
}

TEST_CASE("unrequested pieces are ignored; a silent peer times out; a reject ends its part") {
    Info info(100);
    MetadataFetch fetch(info.hash);
    fetch.add_peer(1, 100);
    fetch.add_peer(2, 100);
    CHECK(fetch.on_data(2, info.piece(0)).ban.empty());  // never asked: ignored
    fetch.requests_for(1, kNow);
    CHECK(fetch.timed_out(kNow + std::chrono::seconds(5)).empty());
    CHECK(fetch.timed_out(kNow + MetadataFetch::kRequestTimeout) ==
          std::vector<MetadataFetch::PeerKey>{1});
    fetch.on_reject(1);
    CHECK_FALSE(fetch.has_peer(1));
    CHECK(fetch.requests_for(2, kNow) == std::vector<std::uint32_t>{0});  // back in the pool
}

TEST_CASE("a silent peer is dropped; a keep-alive or the extension handshake keeps it") {
    using std::chrono::seconds;
    auto handshake = kNow;
    auto at = [&](int s) { return kNow + seconds(s); };
    CHECK_FALSE(silent_peer_reason(at(5), handshake, at(0), false));
    // No extension handshake: keep-alives do not help, it can never send metadata.
    CHECK(silent_peer_reason(at(10), handshake, at(9), false) ==
          std::string("no extension handshake within 10 s"));
    // Extension handshake seen: any message within 30 s (a keep-alive too) keeps it.
    CHECK_FALSE(silent_peer_reason(at(100), handshake, at(80), true));
    CHECK(silent_peer_reason(at(100), handshake, at(70), true) ==
          std::string("no message for 30 s"));
    CHECK(silent_peer_reason(at(30), handshake, at(0), true) == std::string("no message for 30 s"));
}
