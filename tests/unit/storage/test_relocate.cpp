#include "core/storage/relocate.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "core/storage/file_stat.hpp"
#include "core/storage/part_store.hpp"
#include "core/storage/storage.hpp"
#include "storage_fixture.hpp"

using namespace btd;
using namespace btd::test;

namespace {
TestTorrent moved_layout() {
    return make_torrent({{"t/a.bin", 70000}, {"t/pad", 2000, true}, {"t/sub/b.bin", 5000}}, 16384);
}

void write_all(Storage& st, const TestTorrent& t) {
    for (int p = 0; p < t.meta.num_pieces(); ++p) st.write_piece(p, t.piece(p));
    st.flush();
    st.close_files();
}

void check_moved(const TestTorrent& t, const fs::path& from, const fs::path& to) {
    CHECK(read_file(to / "t/a.bin") == t.file_bytes(0));
    CHECK(read_file(to / "t/sub/b.bin") == t.file_bytes(2));
    CHECK_FALSE(fs::exists(to / "t/pad"));
    CHECK_FALSE(fs::exists(from / "t"));  // files and the directories they emptied are gone
}

bool other_file_system(const fs::path& a, const fs::path& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev != sb.st_dev;
}
}  // namespace

TEST_CASE("moving data within one file system renames every file and the part store") {
    TempDir tmp;
    auto t = moved_layout();
    auto from = tmp.path() / "old", to = tmp.path() / "new" / "deeper";
    Storage st(t.meta, from);
    write_all(st, t);
    fs::create_directories(from / PartStore::dir_name(t.meta.info_hash));
    write_file(from / PartStore::dir_name(t.meta.info_hash) / "3", "part");
    write_file(from / "unrelated.txt", "kept");
    struct stat before {};
    ::stat((from / "t/a.bin").c_str(), &before);

    move_torrent_data(t.meta, from, to);
    check_moved(t, from, to);
    CHECK(read_file(to / PartStore::dir_name(t.meta.info_hash) / "3") == "part");
    CHECK(read_file(from / "unrelated.txt") == "kept");
    struct stat after {};
    ::stat((to / "t/a.bin").c_str(), &after);
    CHECK(after.st_ino == before.st_ino);  // renamed, not copied

    st.set_download_dir(to);
    st.adopt_identities(stat_files(t.meta, to));  // as Torrent::relocate does after a move
    std::vector<std::uint8_t> buf(100);
    st.read(0, 0, buf);
    CHECK(std::equal(buf.begin(), buf.end(), t.content.begin()));
}

TEST_CASE("moving data to another file system copies, then deletes the originals") {
    if (!fs::is_directory("/dev/shm") || !other_file_system("/dev/shm", fs::temp_directory_path()))
        return;  // no second file system to copy to
    TempDir tmp;
    auto t = moved_layout();
    auto from = tmp.path() / "old";
    auto to = fs::path("/dev/shm") / ("btd-relocate-" + tmp.path().filename().string());
    Storage st(t.meta, from);
    write_all(st, t);
    move_torrent_data(t.meta, from, to);
    check_moved(t, from, to);
    fs::remove_all(to);
}

TEST_CASE("a move that cannot finish puts back what it renamed: the data stays whole") {
    TempDir tmp;
    auto t = moved_layout();
    auto from = tmp.path() / "old", to = tmp.path() / "new";
    Storage st(t.meta, from);
    write_all(st, t);
    // A directory where the second file should go: a.bin moves, b.bin cannot (even as root).
    fs::create_directories(to / "t/sub/b.bin/in-the-way");
    CHECK_THROWS_AS(move_torrent_data(t.meta, from, to), StorageError);
    CHECK(read_file(from / "t/a.bin") == t.file_bytes(0));
    CHECK(read_file(from / "t/sub/b.bin") == t.file_bytes(2));
    CHECK_FALSE(fs::exists(to / "t/a.bin"));
}

TEST_CASE("a file that is missing is not an error: what exists moves") {
    TempDir tmp;
    auto t = moved_layout();
    auto from = tmp.path() / "old", to = tmp.path() / "new";
    Storage st(t.meta, from);
    write_all(st, t);
    fs::remove(from / "t/sub/b.bin");
    move_torrent_data(t.meta, from, to);
    CHECK(read_file(to / "t/a.bin") == t.file_bytes(0));
    CHECK_FALSE(fs::exists(to / "t/sub/b.bin"));
}
