#include <doctest/doctest.h>

#include "core/storage/part_store.hpp"
#include "core/storage/storage.hpp"
#include "storage_fixture.hpp"

using namespace btd;
using namespace btd::test;

namespace {

// Pieces of 10 bytes over: w1(12) | s1(5) | s2(4) | w2(9) | s3(10) = 40 bytes, 4 pieces.
// Piece 1 holds the end of w1, all of s1 and most of s2; piece 2 the last byte of s2 and all
// of w2; piece 3 is s3 alone. The s files are skipped; only pieces 0-2 are ever downloaded.
TestTorrent layout() {
    auto t = make_torrent(
        {{"t/w1.bin", 12}, {"t/s1.bin", 5}, {"t/sub/s2.bin", 4}, {"t/w2.bin", 9}, {"t/s3.bin", 10}},
        10);
    t.meta.info_hash.fill(0xab);
    return t;
}

const std::vector<bool> kSkipS = {false, true, true, false, true};

void write_wanted_pieces(Storage& st, const TestTorrent& t) {
    for (int p = 0; p < 3; ++p) st.write_piece(p, t.piece(p));
}

std::vector<std::uint8_t> read_piece(Storage& st, const TestTorrent& t, int piece) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(st.piece_size(piece)));
    st.read(piece, 0, out);
    return out;
}

}  // namespace

TEST_CASE("the part store keeps bytes per piece at their offsets, in a hidden directory") {
    TempDir dir;
    Sha1Hash ih{};
    ih.fill(0x01);
    PartStore parts(dir.path(), ih);
    CHECK(parts.path() == dir.path() / ".btd.0101010101010101010101010101010101010101.parts");
    CHECK_FALSE(parts.has(3));
    std::vector<std::uint8_t> out(4);
    CHECK_THROWS_AS(parts.read(3, 0, out), StorageError);

    std::vector<std::uint8_t> data = {1, 2, 3, 4, 5, 6};
    parts.write(3, 100, data);
    parts.write(7, 0, data);
    parts.flush();
    CHECK(parts.has(3));
    parts.read(3, 102, out);
    CHECK(out == std::vector<std::uint8_t>{3, 4, 5, 6});
    CHECK_THROWS_AS(parts.read(3, 104, out), StorageError);  // past what was written

    parts.remove(3);
    CHECK_FALSE(parts.has(3));
    CHECK(fs::exists(parts.path()));  // piece 7 is still in it
    parts.remove(7);
    CHECK_FALSE(fs::exists(parts.path()));
    parts.write(1, 0, data);
    parts.remove_all();
    CHECK_FALSE(fs::exists(parts.path()));
}

TEST_CASE("skipped files are never created: their bytes in shared pieces go to the part store") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    st.set_skipped_files(kSkipS);
    write_wanted_pieces(st, t);
    st.flush();

    CHECK(read_file(dir.path() / "t/w1.bin") == t.file_bytes(0));
    CHECK(read_file(dir.path() / "t/w2.bin") == t.file_bytes(3));
    for (const char* skipped : {"t/s1.bin", "t/sub/s2.bin", "t/s3.bin"})
        CHECK_MESSAGE(!fs::exists(dir.path() / skipped), skipped);
    CHECK_FALSE(fs::exists(dir.path() / "t/sub"));
    std::string ab;
    for (int i = 0; i < 20; ++i) ab += "ab";
    CHECK(st.part_store_path() == dir.path() / (".btd." + ab + ".parts"));  // hidden
    CHECK(fs::exists(st.part_store_path() / "1"));
    CHECK(fs::exists(st.part_store_path() / "2"));
    CHECK_FALSE(fs::exists(st.part_store_path() / "0"));  // no skipped byte in piece 0

    // Serving and hashing read the skipped bytes back from the part store.
    for (int p = 0; p < 3; ++p) {
        CHECK(read_piece(st, t, p) == t.piece(p));
        CHECK(st.check_piece(p));
    }
    CHECK_FALSE(st.check_piece(3));  // never downloaded

    // Completing the wanted files creates them, and nothing for the skipped ones, even when
    // create_files is asked for every file.
    st.create_files({true, false, false, true, false});
    st.create_files();
    CHECK_FALSE(fs::exists(dir.path() / "t/s1.bin"));
    CHECK_FALSE(fs::exists(dir.path() / "t/sub/s2.bin"));
    CHECK_FALSE(fs::exists(dir.path() / "t/s3.bin"));

    SUBCASE("a restart reads the part store again (the re-check passes)") {
        Storage again(t.meta, dir.path());
        again.set_skipped_files(kSkipS);
        for (int p = 0; p < 3; ++p) CHECK(again.check_piece(p));
        CHECK_FALSE(fs::exists(dir.path() / "t/s1.bin"));
    }
    SUBCASE("delete_files removes the part store too") {
        st.delete_files();
        CHECK_FALSE(fs::exists(st.part_store_path()));
        CHECK_FALSE(fs::exists(dir.path() / "t"));
    }
}

TEST_CASE("a file wanted again gets its bytes out of the part store") {
    TempDir dir;
    auto t = layout();
    {
        Storage st(t.meta, dir.path());
        st.set_skipped_files(kSkipS);
        write_wanted_pieces(st, t);
        st.flush();
    }
    Storage st(t.meta, dir.path());  // after a restart, as a user would do it
    st.set_skipped_files(kSkipS);

    // s1 is wanted again: all of it lies in piece 1, which also holds s2's bytes.
    st.set_skipped_files({false, false, true, false, true});
    st.move_parts_to_wanted_files();
    CHECK(read_file(dir.path() / "t/s1.bin") == t.file_bytes(1));
    CHECK_FALSE(fs::exists(dir.path() / "t/sub/s2.bin"));
    CHECK(fs::exists(st.part_store_path() / "1"));  // still holds s2's head
    for (int p = 0; p < 3; ++p) CHECK(st.check_piece(p));

    // s2 too, through create_files this time: its bytes come from pieces 1 and 2.
    st.set_skipped_files({false, false, false, false, true});
    st.create_files({false, false, true, false, false});
    CHECK(read_file(dir.path() / "t/sub/s2.bin") == t.file_bytes(2));
    CHECK_FALSE(fs::exists(st.part_store_path()));  // nothing left in it
    for (int p = 0; p < 3; ++p) CHECK(st.check_piece(p));

    // The last file arrives through the network as usual; then every file is whole.
    st.set_skipped_files({});
    st.write_piece(3, t.piece(3));
    st.flush();
    for (std::size_t f = 0; f < t.meta.files.size(); ++f)
        CHECK(read_file(dir.path() / t.meta.files[f].path) == t.file_bytes(f));
}

TEST_CASE("a file wanted again is moved home before a piece of it is written or read") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    st.set_skipped_files(kSkipS);
    write_wanted_pieces(st, t);
    st.set_skipped_files({false, true, false, false, true});  // s2 wanted again
    CHECK(read_piece(st, t, 2) == t.piece(2));                // reading piece 2 moves s2 home
    CHECK(read_file(dir.path() / "t/sub/s2.bin") == t.file_bytes(2));
    CHECK(read_piece(st, t, 1) == t.piece(1));
    CHECK_FALSE(fs::exists(st.part_store_path() / "2"));
    CHECK(fs::exists(st.part_store_path() / "1"));  // s1 is still skipped
}

TEST_CASE("a skipped file already on disk keeps being used as it is") {
    TempDir dir;
    auto t = layout();
    {
        Storage st(t.meta, dir.path());
        write_wanted_pieces(st, t);  // nothing skipped yet: s1 and s2 are created
    }
    Storage st(t.meta, dir.path());
    st.set_skipped_files(kSkipS);
    write_wanted_pieces(st, t);
    CHECK_FALSE(fs::exists(st.part_store_path()));
    for (int p = 0; p < 3; ++p) CHECK(st.check_piece(p));
    CHECK(read_file(dir.path() / "t/s1.bin") == t.file_bytes(1));
}

TEST_CASE("a wanted file skipped before any byte of it is written is not created") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    st.set_skipped_files({false, false, false, false, false});
    st.write_piece(0, t.piece(0));  // w1 only: s1 is wanted but has no byte on disk yet
    CHECK(st.check_piece(0));
    st.set_skipped_files(kSkipS);
    st.write_piece(1, t.piece(1));
    st.write_piece(2, t.piece(2));
    CHECK_FALSE(fs::exists(dir.path() / "t/s1.bin"));
    CHECK_FALSE(fs::exists(dir.path() / "t/sub/s2.bin"));
    for (int p = 0; p < 3; ++p) CHECK(st.check_piece(p));
}

TEST_CASE("bytes that cannot be moved home stay in the part store until they can") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    st.set_skipped_files(kSkipS);
    write_wanted_pieces(st, t);
    fs::create_directories(dir.path() / "t/s1.bin");  // in the way of the file
    st.set_skipped_files({false, false, true, false, true});
    CHECK_THROWS_AS(st.move_parts_to_wanted_files(), StorageError);
    CHECK(fs::exists(st.part_store_path() / "1"));
    fs::remove(dir.path() / "t/s1.bin");
    st.move_parts_to_wanted_files();
    CHECK(read_file(dir.path() / "t/s1.bin") == t.file_bytes(1));
    for (int p = 0; p < 3; ++p) CHECK(st.check_piece(p));
}
