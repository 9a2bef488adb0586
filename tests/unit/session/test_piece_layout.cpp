#include "core/session/piece_layout.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "core/pieces/picker.hpp"

using namespace btd;
namespace pl = btd::piece_layout;

namespace {
// Three files of 10, 0 and 25 bytes in pieces of 8: 35 bytes, 5 pieces (the last one 3 bytes).
Metainfo layout() {
    Metainfo m;
    m.piece_length = 8;
    m.piece_hashes.resize(5);
    m.files = {{"t/a", 10, 0, false}, {"t/empty", 0, 10, false}, {"t/b", 25, 10, false}};
    m.total_size = 35;
    return m;
}
}  // namespace

TEST_CASE("a file's pieces, and the pieces a short file cuts off") {
    auto m = layout();
    CHECK(pl::piece_span(m, 0, 10) == std::pair{0, 1});
    CHECK(pl::piece_span(m, 10, 35) == std::pair{1, 4});
    std::vector<bool> pieces(5, false);
    pl::mark_file_pieces(m, 1, pieces);  // empty: none
    CHECK(std::count(pieces.begin(), pieces.end(), true) == 0);
    pl::mark_file_pieces(m, 0, pieces);
    CHECK(pieces == std::vector<bool>{true, true, false, false, false});
    std::vector<FileIdentity> now(3);
    now[0].size = 10;
    now[2].size = 17;  // b ends at byte 27: pieces 3 and 4 are cut off
    CHECK(pl::pieces_past_file_ends(m, now) == std::vector<bool>{false, false, false, true, true});
    now[2].size = -1;  // missing
    CHECK(pl::pieces_past_file_ends(m, now) == std::vector<bool>{false, true, true, true, true});
}

TEST_CASE("bytes had: whole pieces, a short last piece, a file's share of its pieces") {
    auto m = layout();
    Bitfield have(5);
    have.set(1);
    have.set(4);
    CHECK(pl::have_bytes(m, have) == 8 + 3);
    CHECK(pl::file_have_bytes(m, m.files[0], have) == 2);      // bytes 8..9 of piece 1
    CHECK(pl::file_have_bytes(m, m.files[1], have) == 0);      // empty file
    CHECK(pl::file_have_bytes(m, m.files[2], have) == 6 + 3);  // 10..15 and 32..34
}

TEST_CASE("have_bytes with no piece, every piece, and all but the short last one") {
    auto m = layout();  // 5 pieces of 8 bytes, the last one 3
    Bitfield have(5);
    CHECK(pl::have_bytes(m, have) == 0);
    for (int p = 0; p < 4; ++p) have.set(p);
    CHECK(pl::have_bytes(m, have) == 32);
    have.set(4);
    CHECK(pl::have_bytes(m, have) == 35);  // the total size, not 5 x 8
}

TEST_CASE("a piece is as important as its most important file; skipped files are reported") {
    auto m = layout();
    auto p = pl::piece_priorities(m, {kPriorityDontDownload, kPriorityDontDownload, 7});
    CHECK(p.pieces == std::vector<std::uint8_t>{0, 7, 7, 7, 7});
    CHECK(p.wanted_size == 25);
    CHECK(p.skips_files);
    CHECK(p.skipped_files == std::vector<bool>{true, false, false});  // empty files never count
    auto all = pl::piece_priorities(m, {4, 4, 1});
    CHECK(all.pieces == std::vector<std::uint8_t>{4, 4, 1, 1, 1});
    CHECK_FALSE(all.skips_files);
    CHECK(all.wanted_size == 35);
}

TEST_CASE("file priorities: one per file, 0..7, or an actionable error") {
    auto m = layout();
    CHECK_NOTHROW(pl::check_file_priorities(m, {0, 4, 7}));
    CHECK_THROWS_WITH_AS(pl::check_file_priorities(m, {1, 2}),
                         "file priorities: expected 3 values (one per file), got 2", SessionError);
    CHECK_THROWS_WITH_AS(pl::check_file_priorities(m, {1, 8, 2}), "file priority 8 is outside 0..7",
                         SessionError);
}
