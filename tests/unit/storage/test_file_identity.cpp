// File identity: btd notices a file deleted, replaced or modified behind its back, and never
// serves or counts bytes it did not write or verify.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "core/storage/file_stat.hpp"
#include "core/storage/storage.hpp"
#include "storage_fixture.hpp"

using namespace btd;
using namespace btd::test;

namespace {

// Two files, pieces of 8 bytes: a(20) | b(12) = 32 bytes, piece 2 spans a and b.
TestTorrent two_files() {
    return make_torrent({{"t/a.bin", 20}, {"t/b.bin", 12}}, 8);
}

void write_all(Storage& st, const TestTorrent& t) {
    for (int p = 0; p < t.meta.num_pieces(); ++p) st.write_piece(p, t.piece(p));
}

FileIdentity file_at(std::int64_t size, std::uint64_t inode, std::int64_t mtime) {
    FileIdentity id;
    id.size = size;
    id.inode = inode;
    id.device = 1;
    id.mtime = mtime;
    id.link_count = 1;
    return id;
}

// Overwrites bytes in place (same inode) and moves the mtime on, as an editor or a script would.
void scribble(const fs::path& file, std::int64_t at, const std::string& bytes) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(at);
    f << bytes;
    f.close();
    struct timespec times[2] = {{0, UTIME_NOW}, {::time(nullptr) + 5, 0}};
    ::utimensat(AT_FDCWD, file.c_str(), times, 0);
}

std::vector<int> problem_files(const std::vector<FileProblem>& problems) {
    std::vector<int> out;
    for (const auto& p : problems) out.push_back(p.file);
    return out;
}

}  // namespace

TEST_CASE("describe_change tells deleted, replaced and modified files apart") {
    auto known = file_at(100, 7, 1000);
    CHECK(describe_change(std::nullopt, FileIdentity{}, true).empty());  // nothing known
    CHECK(describe_change(known, known, true).empty());
    CHECK(describe_change(known, FileIdentity{}, false) == "was deleted");
    CHECK(describe_change(known, file_at(100, 8, 1000), false) == "was replaced by another file");
    auto unlinked = known;
    unlinked.link_count = 0;  // an open descriptor whose path is gone
    CHECK(describe_change(known, unlinked, false) == "was deleted");
    auto touched = file_at(100, 7, 1001);
    CHECK(describe_change(known, touched, false).empty());  // btd may be writing it itself
    CHECK(describe_change(known, touched, true).find("modified") != std::string::npos);
    auto same_second = known;
    same_second.mtime_ns = 5;
    CHECK_FALSE(describe_change(known, same_second, true).empty());
}

TEST_CASE("stat_file reports inode and nanosecond mtime; missing files have size -1") {
    TempDir dir;
    write_file(dir.path() / "f", "hello");
    auto id = stat_file(dir.path(), "f");
    struct stat st {};
    REQUIRE(::stat((dir.path() / "f").c_str(), &st) == 0);
    CHECK(id.size == 5);
    CHECK(id.inode == st.st_ino);
    CHECK(id.mtime_ns == st.st_mtim.tv_nsec);
    CHECK_FALSE(stat_file(dir.path(), "missing").exists());
}

TEST_CASE("a file deleted while downloading is noticed at the next write, never written on") {
    TempDir dir;
    auto t = two_files();
    Storage st(t.meta, dir.path());
    st.write_piece(0, t.piece(0));  // a.bin is open in the descriptor cache now
    fs::remove_all(dir.path() / "t");
    try {
        st.write_piece(1, t.piece(1));
        FAIL("a write into a deleted file was accepted");
    } catch (const FileChangedError& e) {
        CHECK(e.file() == 0);
        CHECK(std::string(e.what()).find("a.bin") != std::string::npos);
    }
    // After the error the old descriptor is gone: the next write makes a new file.
    st.write_piece(1, t.piece(1));
    CHECK(fs::file_size(dir.path() / "t/a.bin") == 16);
}

TEST_CASE("a file replaced while downloading is noticed at the next write") {
    TempDir dir;
    auto t = two_files();
    Storage st(t.meta, dir.path());
    st.write_piece(0, t.piece(0));
    st.close_files();  // evicted from the cache: the next write opens the path again
    write_file(dir.path() / "t/new", std::string(8, 'x'));  // another inode, even the same size
    fs::rename(dir.path() / "t/new", dir.path() / "t/a.bin");
    CHECK_THROWS_AS(st.write_piece(1, t.piece(1)), FileChangedError);
    CHECK_NOTHROW(st.write_piece(1, t.piece(1)));  // forgotten: btd's pieces there get re-checked
}

TEST_CASE("a file changed in place while downloading is noticed at the next write") {
    TempDir dir;
    auto t = two_files();
    Storage st(t.meta, dir.path());
    st.write_piece(0, t.piece(0));
    scribble(dir.path() / "t/a.bin", 0, "XY");  // same inode, new bytes and mtime
    CHECK_THROWS_AS(st.write_piece(1, t.piece(1)), FileChangedError);
}

TEST_CASE("bytes changed in place are never served; a check makes the file known again") {
    TempDir dir;
    auto t = two_files();
    Storage st(t.meta, dir.path());
    write_all(st, t);
    std::vector<std::uint8_t> out(8);
    st.read(0, 0, out);  // served: what btd wrote
    CHECK(out == t.piece(0));

    scribble(dir.path() / "t/a.bin", 2, "XY");
    CHECK_THROWS_AS(st.read(0, 0, out), FileChangedError);  // same descriptor, new bytes
    CHECK_THROWS_AS(st.read(1, 0, out), FileChangedError);  // any piece of that file
    st.read(3, 0, out);                                     // b.bin is untouched
    CHECK(out == t.piece(3));

    CHECK_FALSE(st.check_piece(0));  // the re-check finds the changed piece bad ...
    CHECK(st.check_piece(1));        // ... and the others good, and records the file as is
    st.read(1, 0, out);
    CHECK(out == t.piece(1));
}

TEST_CASE("a file never written or verified by btd is not served") {
    TempDir dir;
    auto t = two_files();
    fs::create_directories(dir.path() / "t");
    write_file(dir.path() / "t/a.bin", t.file_bytes(0));
    Storage st(t.meta, dir.path());
    std::vector<std::uint8_t> out(8);
    CHECK_THROWS_AS(st.read(0, 0, out), FileChangedError);
    CHECK(st.check_piece(0));
    CHECK_NOTHROW(st.read(0, 0, out));
}

TEST_CASE("find_changed_files: deleted, replaced, modified, missing and short files") {
    TempDir dir;
    auto t = two_files();
    Storage st(t.meta, dir.path());
    write_all(st, t);
    CHECK(st.find_changed_files({}, true, true).empty());

    SUBCASE("deleted") {
        fs::remove(dir.path() / "t/b.bin");
        auto problems = st.find_changed_files({}, false, false);
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].file == 1);
        CHECK(problems[0].reason == "was deleted");
    }
    SUBCASE("replaced by a file of the same size") {
        write_file(dir.path() / "t/new", t.file_bytes(0));
        fs::rename(dir.path() / "t/new", dir.path() / "t/a.bin");
        CHECK(problem_files(st.find_changed_files({}, false, false)) == std::vector<int>{0});
    }
    SUBCASE("modified: only counted when btd is not writing (compare_contents)") {
        scribble(dir.path() / "t/b.bin", 0, "Z");
        CHECK(st.find_changed_files({}, false, false).empty());
        CHECK(problem_files(st.find_changed_files({}, true, false)) == std::vector<int>{1});
    }
    SUBCASE("a selection limits the files looked at") {
        fs::remove(dir.path() / "t/a.bin");
        CHECK(st.find_changed_files({false, true}, true, true).empty());
    }
    SUBCASE("forgotten files are not compared, but must be present when required") {
        st.forget_files({0});
        fs::remove(dir.path() / "t/a.bin");
        CHECK(st.find_changed_files({}, true, false).empty());
        auto problems = st.find_changed_files({}, true, true);
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].reason == "is missing");
    }
}

TEST_CASE("find_changed_files with require_present: a short file never counts as complete") {
    TempDir dir;
    auto t = two_files();
    fs::create_directories(dir.path() / "t");
    write_file(dir.path() / "t/a.bin", t.file_bytes(0).substr(0, 10));
    write_file(dir.path() / "t/b.bin", t.file_bytes(1));
    Storage st(t.meta, dir.path());
    auto problems = st.find_changed_files({}, true, true);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].file == 0);
    CHECK(problems[0].reason == "is shorter than the torrent says");
}

TEST_CASE("adopt_identities takes what is on disk as known") {
    TempDir dir;
    auto t = two_files();
    fs::create_directories(dir.path() / "t");
    write_file(dir.path() / "t/a.bin", t.file_bytes(0));
    write_file(dir.path() / "t/b.bin", t.file_bytes(1));
    Storage st(t.meta, dir.path());
    st.adopt_identities(stat_files(t.meta, dir.path()));
    std::vector<std::uint8_t> out(8);
    st.read(0, 0, out);
    CHECK(out == t.piece(0));
    write_file(dir.path() / "t/new", t.file_bytes(0));  // same bytes, another inode
    fs::rename(dir.path() / "t/new", dir.path() / "t/a.bin");
    CHECK(problem_files(st.find_changed_files({}, true, false)) == std::vector<int>{0});
}

TEST_CASE("identities adopted by a restored job are kept without building its file state") {
    TempDir dir;
    auto t = two_files();
    fs::create_directories(dir.path() / "t");
    write_file(dir.path() / "t/a.bin", t.file_bytes(0));
    write_file(dir.path() / "t/b.bin", t.file_bytes(1));
    const auto adopted = stat_files(t.meta, dir.path());
    Storage st(t.meta, dir.path());
    st.adopt_identities(adopted);
    CHECK_FALSE(st.holds_file_state());  // a paused job restored with data holds a list only
    write_file(dir.path() / "t/new", t.file_bytes(0));  // replaced while paused
    fs::rename(dir.path() / "t/new", dir.path() / "t/a.bin");
    // Resume data still names what was verified, so the replacement shows at the next start.
    CHECK(st.identities_for_resume()[0].inode == adopted[0].inode);
    CHECK_FALSE(st.holds_file_state());
    // The file state built later starts from the adopted identities: the replacement is caught.
    std::vector<std::uint8_t> out(8);
    CHECK_THROWS_AS(st.read(0, 0, out), FileChangedError);
    CHECK(st.holds_file_state());
    CHECK(problem_files(st.find_changed_files({}, true, false)) == std::vector<int>{0});
}

TEST_CASE("resume data records what btd wrote, so a replacement not yet noticed shows at restart") {
    TempDir dir;
    auto t = two_files();
    Storage st(t.meta, dir.path());
    write_all(st, t);
    auto written = stat_files(t.meta, dir.path());
    CHECK(st.identities_for_resume() == written);
    write_file(dir.path() / "t/new", t.file_bytes(0));
    fs::rename(dir.path() / "t/new", dir.path() / "t/a.bin");
    auto saved = st.identities_for_resume();
    CHECK(saved[0].inode == written[0].inode);  // not the replacement's
    CHECK(saved[0].inode != stat_files(t.meta, dir.path())[0].inode);
    Storage fresh(t.meta, dir.path());  // nothing known yet: what is on disk
    CHECK(fresh.identities_for_resume() == stat_files(t.meta, dir.path()));
}
