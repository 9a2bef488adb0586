#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/storage/file_stat.hpp"
#include "core/storage/storage.hpp"
#include "storage_fixture.hpp"

using namespace btd;
using namespace btd::test;

namespace {

// Pieces of 10 bytes over: a(7) | empty(0) | sub/deep/b(13) | pad(5) | c(9)  = 34 bytes.
// Piece 0 spans a and b, piece 2 spans the pad file and c, piece 3 is 4 bytes long.
TestTorrent layout() {
    return make_torrent({{"t/a.bin", 7},
                         {"t/empty", 0},
                         {"t/sub/deep/b.bin", 13},
                         {"t/.pad/5", 5, true},
                         {"t/c.bin", 9}},
                        10);
}

void write_all(Storage& st, const TestTorrent& t) {
    for (int p = 0; p < t.meta.num_pieces(); ++p) st.write_piece(p, t.piece(p));
}

bool running_as_root() {
    return ::geteuid() == 0;
}

}  // namespace

TEST_CASE("write and read across file boundaries, pad files never on disk") {
    TempDir dir;
    auto t = layout();
    REQUIRE(t.meta.num_pieces() == 4);
    Storage st(t.meta, dir.path());
    CHECK(st.piece_size(3) == 4);
    write_all(st, t);
    st.flush();

    CHECK(read_file(dir.path() / "t/a.bin") == t.file_bytes(0));
    CHECK(read_file(dir.path() / "t/sub/deep/b.bin") == t.file_bytes(2));
    CHECK(read_file(dir.path() / "t/c.bin") == t.file_bytes(4));
    CHECK_FALSE(fs::exists(dir.path() / "t/.pad"));
    CHECK_FALSE(fs::exists(dir.path() / "t/empty"));  // only create_files makes empty files

    // A read crossing a -> b, and one covering the pad file (zeros) and the start of c.
    std::vector<std::uint8_t> out(8);
    st.read(0, 2, out);
    CHECK(out == std::vector<std::uint8_t>(t.content.begin() + 2, t.content.begin() + 10));
    std::vector<std::uint8_t> padded(10);
    st.read(2, 0, padded);
    CHECK(padded == t.piece(2));
    CHECK(std::all_of(padded.begin(), padded.begin() + 5, [](auto b) { return b == 0; }));
    CHECK_THROWS_AS(st.read(3, 2, out), StorageError);  // past the end of the short last piece

    for (int p = 0; p < 4; ++p) CHECK(st.check_piece(p));
}

TEST_CASE("create_files with a selection creates only the selected files") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    std::vector<bool> which(t.meta.files.size(), false);
    which[0] = true;  // a.bin only
    st.create_files(which);
    CHECK(fs::file_size(dir.path() / "t/a.bin") == 7);
    CHECK_FALSE(fs::exists(dir.path() / "t/empty"));
    CHECK_FALSE(fs::exists(dir.path() / "t/sub/deep/b.bin"));
    CHECK_FALSE(fs::exists(dir.path() / "t/c.bin"));
}

TEST_CASE("check_piece: good, corrupt, missing and short files") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    for (int p = 0; p < 4; ++p) CHECK_FALSE(st.check_piece(p));  // nothing on disk yet
    write_all(st, t);
    st.close_files();

    auto b = read_file(dir.path() / "t/sub/deep/b.bin");
    b[12] = static_cast<char>(b[12] ^ 0xff);  // last byte of b, in piece 1
    write_file(dir.path() / "t/sub/deep/b.bin", b);
    CHECK(st.check_piece(0));
    CHECK_FALSE(st.check_piece(1));

    fs::resize_file(dir.path() / "t/c.bin", 7);  // short: piece 3 can't be read fully
    CHECK(st.check_piece(2));
    CHECK_FALSE(st.check_piece(3));
    std::vector<std::uint8_t> out(4);
    CHECK_THROWS_AS(st.read(3, 0, out), StorageError);

    fs::remove(dir.path() / "t/a.bin");
    st.close_files();  // a cached descriptor would still read the deleted file
    CHECK_FALSE(st.check_piece(0));
    CHECK_FALSE(st.check_piece(99));
}

TEST_CASE("create_files makes every non-pad file at its size, never shrinking") {
    TempDir dir;
    auto t = layout();
    fs::create_directories(dir.path() / "t");
    write_file(dir.path() / "t/c.bin", std::string(20, 'x'));  // bigger than the torrent says
    Storage st(t.meta, dir.path());
    st.create_files();
    CHECK(fs::file_size(dir.path() / "t/a.bin") == 7);
    CHECK(fs::exists(dir.path() / "t/empty"));
    CHECK(fs::file_size(dir.path() / "t/empty") == 0);
    CHECK(fs::file_size(dir.path() / "t/sub/deep/b.bin") == 13);
    CHECK(fs::file_size(dir.path() / "t/c.bin") == 20);
    CHECK_FALSE(fs::exists(dir.path() / "t/.pad"));
    // Written pieces land in the preallocated files.
    write_all(st, t);
    CHECK(st.check_piece(0));
}

TEST_CASE("paths escaping the download dir are refused") {
    TempDir dir;
    auto t = layout();
    for (const char* bad : {"../x", "t/../../x", "/tmp/btd-abs", "t/..", "."}) {
        CAPTURE(bad);
        auto m = t.meta;
        m.files[0].path = bad;
        CHECK_THROWS_AS(Storage(m, dir.path() / "dl"), StorageError);
    }
    auto ok = t.meta;
    ok.files[0].path = "t/x/../a.bin";  // stays inside: allowed
    CHECK_NOTHROW(Storage(ok, dir.path() / "dl"));
    CHECK_FALSE(fs::exists(dir.path() / "x"));
}

TEST_CASE("inconsistent file layout is refused") {
    TempDir dir;
    auto t = layout();
    auto m = t.meta;
    m.files[2].offset += 1;
    CHECK_THROWS_AS(Storage(m, dir.path()), StorageError);
    m = t.meta;
    m.total_size += 1;
    CHECK_THROWS_AS(Storage(m, dir.path()), StorageError);
}

TEST_CASE("symlinks planted in the download dir are not followed") {
    TempDir dir;
    auto t = layout();
    fs::path dl = dir.path() / "dl";
    fs::path outside = dir.path() / "outside";
    fs::create_directories(dl / "t");
    fs::create_directories(outside);
    write_file(outside / "victim", "precious");

    SUBCASE("at the file itself") {
        fs::create_symlink(outside / "victim", dl / "t/a.bin");
        Storage st(t.meta, dl);
        CHECK_THROWS_AS(st.write_piece(0, t.piece(0)), StorageError);
        CHECK_FALSE(st.check_piece(0));
        CHECK_THROWS_AS(st.create_files(), StorageError);
    }
    SUBCASE("at a directory on the way") {
        fs::create_directory_symlink(outside, dl / "t/sub");
        Storage st(t.meta, dl);
        CHECK_THROWS_AS(st.write_piece(1, t.piece(1)), StorageError);
        CHECK_FALSE(fs::exists(outside / "deep"));
    }
    CHECK(read_file(outside / "victim") == "precious");
}

TEST_CASE("write errors throw StorageError naming the file") {
    TempDir dir;
    auto t = layout();
    // A regular file where a directory should be: ENOTDIR even as root.
    fs::create_directories(dir.path() / "t");
    write_file(dir.path() / "t/sub", "not a directory");
    Storage st(t.meta, dir.path());
    try {
        st.write_piece(1, t.piece(1));
        FAIL("expected StorageError");
    } catch (const StorageError& e) {
        std::string msg = e.what();
        CAPTURE(msg);
        CHECK(msg.find("b.bin") != std::string::npos);
        CHECK(msg.find("Not a directory") != std::string::npos);
    }

    if (!running_as_root()) {  // root ignores permission bits
        TempDir ro;
        fs::create_directories(ro.path() / "t");
        fs::permissions(ro.path() / "t", fs::perms::owner_read | fs::perms::owner_exec);
        Storage st2(t.meta, ro.path());
        try {
            st2.write_piece(0, t.piece(0));
            FAIL("expected StorageError");
        } catch (const StorageError& e) {
            std::string msg = e.what();
            CHECK(msg.find("a.bin") != std::string::npos);
            CHECK(msg.find("Permission denied") != std::string::npos);
        }
    }
}

TEST_CASE("write_piece rejects a buffer of the wrong size") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    std::vector<std::uint8_t> wrong(9);
    CHECK_THROWS_AS(st.write_piece(0, wrong), StorageError);
    CHECK_THROWS_AS(st.write_piece(4, wrong), StorageError);
}

TEST_CASE("more files than the descriptor cache holds") {
    TempDir dir;
    std::vector<FileSpec> files;
    for (int i = 0; i < 150; ++i) files.push_back({"many/f" + std::to_string(i), 3});
    auto t = make_torrent(files, 16, 7);
    Storage st(t.meta, dir.path());
    write_all(st, t);
    st.flush();  // includes files already evicted from the cache
    for (int p = 0; p < t.meta.num_pieces(); ++p) CHECK(st.check_piece(p));
    CHECK(read_file(dir.path() / "many/f149") == t.file_bytes(149));
}

TEST_CASE("delete_files removes files and the torrent's empty directories only") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    st.create_files();
    write_all(st, t);
    SUBCASE("all gone") {
        st.delete_files();
        CHECK_FALSE(fs::exists(dir.path() / "t"));
        CHECK(fs::exists(dir.path()));
    }
    SUBCASE("a user file keeps its directory") {
        write_file(dir.path() / "t/sub/notes.txt", "mine");
        st.delete_files();
        CHECK_FALSE(fs::exists(dir.path() / "t/a.bin"));
        CHECK_FALSE(fs::exists(dir.path() / "t/sub/deep"));
        CHECK(read_file(dir.path() / "t/sub/notes.txt") == "mine");
    }
    st.delete_files();  // again: nothing left to do, no error
}

TEST_CASE("stat_files reports size and mtime, -1 when missing") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    st.write_piece(0, t.piece(0));
    st.close_files();
    auto info = stat_files(t.meta, dir.path());
    REQUIRE(info.size() == 5);
    CHECK(info[0].size == 7);
    CHECK(info[0].mtime > 0);
    CHECK(info[1].size == -1);  // empty file not created yet
    CHECK(info[2].size == 3);   // only the first 3 bytes of b written
    CHECK(info[3].size == -1);  // pad
    CHECK(info[4].size == -1);
}

TEST_CASE("a Storage made from a shared metainfo keeps no copy of its own") {
    TempDir dir;
    auto t = make_torrent({{"a.bin", 40000}}, 16384, 3);
    auto meta = std::make_shared<const Metainfo>(t.meta);
    Storage storage(meta, dir.path());
    CHECK(&storage.metainfo() == meta.get());  // 10,000 paused torrents hold it once
}

TEST_CASE("a loaded torrent that touches no file builds no file state; the first disk job does") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path());
    // What restoring and saving a paused torrent does, with no file on disk yet.
    st.set_skipped_files(std::vector<bool>(t.meta.files.size(), false));
    st.adopt_identities(stat_files(t.meta, dir.path()));
    auto ids = st.identities_for_resume();
    CHECK(ids.size() == t.meta.files.size());
    CHECK_FALSE(ids[0].exists());
    st.flush();
    st.close_files();
    st.forget_files({0, 2});
    CHECK(st.piece_size(3) == 4);
    CHECK(st.metainfo().name == t.meta.name);
    CHECK(st.part_store_path().parent_path() == dir.path());
    CHECK_FALSE(st.holds_file_state());

    write_all(st, t);
    CHECK(st.holds_file_state());
    st.flush();
    CHECK(read_file(dir.path() / "t/c.bin") == t.file_bytes(4));
    for (int p = 0; p < 4; ++p) CHECK(st.check_piece(p));
}

TEST_CASE("before any disk job: a skipped file or a new download dir still takes effect") {
    TempDir dir;
    auto t = layout();
    Storage st(t.meta, dir.path() / "first");
    st.set_download_dir(dir.path() / "second");
    CHECK_FALSE(st.holds_file_state());
    CHECK(st.download_dir() == dir.path() / "second");
    std::vector<bool> skipped(t.meta.files.size(), false);
    skipped[4] = true;  // c.bin: its bytes go to the part store
    st.set_skipped_files(skipped);
    write_all(st, t);
    st.flush();
    CHECK(read_file(dir.path() / "second/t/a.bin") == t.file_bytes(0));
    CHECK_FALSE(fs::exists(dir.path() / "second/t/c.bin"));
    CHECK_FALSE(fs::exists(dir.path() / "first"));
    for (int p = 0; p < 4; ++p) CHECK(st.check_piece(p));
}
