#include <doctest/doctest.h>

#include <random>

#include "core/peer/extensions/ut_metadata.hpp"

using namespace btd;
using namespace btd::wire;

namespace {

// A fake info dictionary of the given size (its bytes need not be valid bencode here).
std::string make_metadata(std::size_t size) {
    std::string s(size, '\0');
    for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 100) % 26);
    return s;
}

std::string piece_of(const std::string& metadata, std::uint32_t index) {
    auto begin = static_cast<std::size_t>(index) * kMetadataPieceSize;
    return metadata.substr(begin, static_cast<std::size_t>(kMetadataPieceSize));
}

}  // namespace

TEST_CASE("ut_metadata request, reject and data encode as BEP 9 shows them") {
    CHECK(encode_metadata_request(0) == "d8:msg_typei0e5:piecei0ee");
    CHECK(encode_metadata_reject(3) == "d8:msg_typei2e5:piecei3ee");
    CHECK(encode_metadata_data(1, 20000, "xyz") ==
          "d8:msg_typei1e5:piecei1e10:total_sizei20000eexyz");
}

TEST_CASE("ut_metadata messages decode back to what was encoded") {
    auto request = decode_metadata_message(encode_metadata_request(7));
    CHECK(request.type == MetadataMsgType::request);
    CHECK(request.piece == 7);
    auto reject = decode_metadata_message(encode_metadata_reject(2));
    CHECK(reject.type == MetadataMsgType::reject);
    CHECK(reject.piece == 2);

    std::string metadata = make_metadata(40000);  // pieces of 16384, 16384, 7232
    auto data = decode_metadata_message(encode_metadata_data(2, 40000, piece_of(metadata, 2)));
    CHECK(data.type == MetadataMsgType::data);
    CHECK(data.piece == 2);
    CHECK(data.total_size == 40000);
    CHECK(data.data.size() == 7232);
    CHECK(data.data == metadata.substr(32768));
}

TEST_CASE("an unknown ut_metadata msg_type is reported as unknown, not as an error") {
    CHECK(decode_metadata_message("d8:msg_typei9e5:piecei0ee").type == MetadataMsgType::unknown);
}

TEST_CASE("malformed ut_metadata messages throw ProtocolError naming the fault") {
    auto rejects = [](const std::string& payload, const char* what) {
        CAPTURE(payload);
        CHECK_THROWS_WITH_AS(decode_metadata_message(payload), doctest::Contains(what),
                             ProtocolError);
    };
    rejects("", "not bencoded");
    rejects("d8:msg_typei0e", "not bencoded");
    rejects("li0ee", "not a dictionary");
    rejects("d5:piecei0ee", "'msg_type'");
    rejects("d8:msg_type1:05:piecei0ee", "'msg_type'");
    rejects("d8:msg_typei0ee", "'piece'");
    rejects("d8:msg_typei0e5:piecei-1ee", "out of range");
    rejects("d8:msg_typei0e5:piecei1024ee", "out of range");  // 16 MiB / 16 KiB = 1024 pieces
    rejects("d8:msg_typei0e5:piecei0eeX", "trailing bytes");
    rejects("d8:msg_typei1e5:piecei0ee" + std::string(10, 'x'), "'total_size'");
    rejects(encode_metadata_data(0, 0, ""), "outside 1..");
    rejects(encode_metadata_data(0, kMaxMetadataSize + 1, "x"), "outside 1..");
    rejects(encode_metadata_data(3, 40000, std::string(100, 'x')), "past the end");
    rejects(encode_metadata_data(0, 40000, std::string(100, 'x')), "expected 16384");
    rejects(encode_metadata_data(2, 40000, std::string(7233, 'x')), "expected 7232");
}

TEST_CASE("the total size cap can be lowered by the caller") {
    CHECK_NOTHROW(
        decode_metadata_message(encode_metadata_data(0, 1000, std::string(1000, 'x')), 1000));
    CHECK_THROWS_AS(
        decode_metadata_message(encode_metadata_data(0, 1001, std::string(1001, 'x')), 1000),
        ProtocolError);
}

TEST_CASE("metadata_size is read from the extension handshake, within limits") {
    CHECK(handshake_metadata_size("d1:md11:ut_metadatai3ee13:metadata_sizei31235ee") == 31235);
    CHECK_FALSE(handshake_metadata_size("d1:md11:ut_metadatai3eee"));
    CHECK_FALSE(handshake_metadata_size("d13:metadata_sizei0ee"));
    CHECK_FALSE(handshake_metadata_size("d13:metadata_sizei-5ee"));
    CHECK_FALSE(handshake_metadata_size("d13:metadata_size3:abce"));
    CHECK_FALSE(handshake_metadata_size("d13:metadata_sizei16777217ee"));
    CHECK_FALSE(handshake_metadata_size("garbage"));
}

TEST_CASE("metadata piece arithmetic: 16 KiB pieces, the last one shorter") {
    CHECK(metadata_piece_count(0) == 0);
    CHECK(metadata_piece_count(1) == 1);
    CHECK(metadata_piece_count(16384) == 1);
    CHECK(metadata_piece_count(16385) == 2);
    CHECK(metadata_piece_count(kMaxMetadataSize) == 1024);
    CHECK(metadata_piece_length(16385, 0) == 16384);
    CHECK(metadata_piece_length(16385, 1) == 1);
    CHECK(metadata_piece_length(16385, 2) == 0);
}

TEST_CASE("the assembler refuses sizes outside 1..16 MiB") {
    Sha1Hash h{};
    CHECK_THROWS_AS(MetadataAssembler(h, 0), std::invalid_argument);
    CHECK_THROWS_AS(MetadataAssembler(h, kMaxMetadataSize + 1), std::invalid_argument);
    CHECK(MetadataAssembler(h, kMaxMetadataSize).piece_count() == 1024);
}

TEST_CASE("the assembler collects pieces from several peers and verifies them") {
    std::string metadata = make_metadata(40000);
    MetadataAssembler a(sha1(std::string_view(metadata)), 40000);
    REQUIRE(a.piece_count() == 3);
    CHECK(a.next_missing() == 0u);
    CHECK(a.next_missing({0, 1}) == 2u);
    CHECK(a.add_piece(1, 0, piece_of(metadata, 0), 40000) ==
          MetadataAssembler::AddResult::accepted);
    CHECK(a.add_piece(2, 2, piece_of(metadata, 2), 40000) ==
          MetadataAssembler::AddResult::accepted);
    CHECK(a.add_piece(2, 2, piece_of(metadata, 2), 40000) ==
          MetadataAssembler::AddResult::duplicate);
    CHECK(a.next_missing() == 1u);
    CHECK_FALSE(a.next_missing({1}));
    CHECK_FALSE(a.complete());
    CHECK_FALSE(a.verify().ok);  // not complete yet: nothing to check, nothing discarded
    CHECK(a.have(0));
    CHECK(a.add_piece(3, 1, piece_of(metadata, 1), 40000) ==
          MetadataAssembler::AddResult::accepted);
    REQUIRE(a.complete());
    auto v = a.verify();
    CHECK(v.ok);
    CHECK(v.metadata == metadata);
    CHECK(v.contributors.empty());
    CHECK(a.bad_peers().empty());
}

TEST_CASE("the assembler turns away pieces of the wrong size, index or total size") {
    std::string metadata = make_metadata(20000);
    MetadataAssembler a(sha1(std::string_view(metadata)), 20000);
    using R = MetadataAssembler::AddResult;
    CHECK(a.add_piece(1, 2, "x", 20000) == R::out_of_range);
    CHECK(a.add_piece(1, 0, "short", 20000) == R::wrong_size);
    CHECK(a.add_piece(1, 1, std::string(3617, 'x'), 20000) == R::wrong_size);
    CHECK(a.add_piece(1, 0, piece_of(metadata, 0), 20001) == R::wrong_total_size);
    CHECK_FALSE(a.have(0));
    CHECK(a.next_missing() == 0u);
}

TEST_CASE("a hash mismatch discards every piece and names the peers that sent them") {
    std::string metadata = make_metadata(40000);
    MetadataAssembler a(sha1(std::string_view(metadata)), 40000);
    std::string corrupt = piece_of(metadata, 1);
    corrupt[100] ^= 0x01;
    a.add_piece(10, 0, piece_of(metadata, 0), 40000);
    a.add_piece(66, 1, corrupt, 40000);  // the liar
    a.add_piece(10, 2, piece_of(metadata, 2), 40000);
    auto failed = a.verify();
    CHECK_FALSE(failed.ok);
    CHECK(failed.contributors == std::set<MetadataAssembler::PeerKey>{10, 66});
    CHECK_FALSE(a.complete());
    CHECK(a.next_missing() == 0u);  // start over

    // Second attempt from honest peers: once it verifies, the liar is known.
    for (std::uint32_t i = 0; i < 3; ++i) a.add_piece(20 + i, i, piece_of(metadata, i), 40000);
    auto ok = a.verify();
    CHECK(ok.ok);
    CHECK(ok.metadata == metadata);
    CHECK(a.bad_peers() == std::set<MetadataAssembler::PeerKey>{66});
}

TEST_CASE("a single peer sending everything wrong is the only contributor named") {
    std::string metadata = make_metadata(100);
    MetadataAssembler a(sha1(std::string_view(metadata)), 100);
    a.add_piece(5, 0, std::string(100, '!'), 100);
    auto failed = a.verify();
    CHECK_FALSE(failed.ok);
    CHECK(failed.contributors == std::set<MetadataAssembler::PeerKey>{5});
}

TEST_CASE("requests for our metadata are answered with the piece, or a reject past the end") {
    std::string metadata = make_metadata(20000);
    auto first = decode_metadata_message(answer_metadata_request(metadata, 0));
    CHECK(first.type == MetadataMsgType::data);
    CHECK(first.total_size == 20000);
    CHECK(first.data == metadata.substr(0, 16384));
    auto last = decode_metadata_message(answer_metadata_request(metadata, 1));
    CHECK(last.data == metadata.substr(16384));
    auto past = decode_metadata_message(answer_metadata_request(metadata, 2));
    CHECK(past.type == MetadataMsgType::reject);
    CHECK(past.piece == 2);
    CHECK(decode_metadata_message(answer_metadata_request("", 0)).type ==
          MetadataMsgType::reject);  // no metadata yet
}

TEST_CASE("mutated ut_metadata messages decode or throw ProtocolError, nothing else") {
    std::string metadata = make_metadata(20000);
    const std::string seeds[] = {encode_metadata_request(1), encode_metadata_reject(0),
                                 answer_metadata_request(metadata, 1)};
    std::mt19937 rng(12);
    int decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string s = seeds[rng() % 3];
        for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0 && !s.empty(); --edits) {
            std::size_t at = rng() % std::min<std::size_t>(s.size(), 60);  // mostly the dict
            if (rng() % 2)
                s[at] = static_cast<char>(rng() % 2 ? rng() : '0' + rng() % 10);
            else
                s.erase(at, 1);
        }
        try {
            auto m = decode_metadata_message(s);
            if (m.type == MetadataMsgType::data)
                CHECK(static_cast<std::int64_t>(m.data.size()) ==
                      metadata_piece_length(m.total_size, m.piece));
            ++decoded;
        } catch (const ProtocolError&) {
        }
    }
    MESSAGE("ut_metadata mutation: decoded " << decoded << " of 20000");
}
