// The move journal (move_journal.hpp) and recover_move (relocate.hpp): a move cut short at any
// step is finished or undone at the next start, and no file of the torrent is lost.
#include "core/storage/move_journal.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include "core/storage/relocate.hpp"
#include "storage_fixture.hpp"

using namespace btd;
using namespace btd::test;

namespace {
const std::vector<fs::path> kFiles = {"t/a.bin", "t/sub/b.bin"};

void write_with_dirs(const fs::path& p, const std::string& data) {
    fs::create_directories(p.parent_path());
    write_file(p, data);
}

// from/ holds both files; the journal says they move to to/.
struct Scene {
    TempDir tmp;
    fs::path from = tmp.path() / "from", to = tmp.path() / "to", journal = tmp.path() / "j.move";
    Scene() {
        for (const auto& f : kFiles) write_with_dirs(from / f, "data of " + f.string());
    }
    MoveJournalWriter start(bool copy) {
        return MoveJournalWriter(journal, {from, to, copy, kFiles, {}, false});
    }
    void copy_one(const fs::path& f) { write_with_dirs(to / f, read_file(from / f)); }
};
}  // namespace

TEST_CASE("a journal reads back what was written; a torn last record is ignored") {
    Scene s;
    auto w = s.start(true);
    w.copied(kFiles[0]);
    auto j = read_move_journal(s.journal);
    REQUIRE(j);
    CHECK(j->from == s.from);
    CHECK(j->to == s.to);
    CHECK(j->copy);
    CHECK(j->files == kFiles);
    CHECK(j->copied == std::set<fs::path>{kFiles[0]});
    CHECK_FALSE(j->committed);
    std::ofstream(s.journal, std::ios::app) << "comm";  // the crash hit while writing "commit"
    REQUIRE(read_move_journal(s.journal));
    CHECK_FALSE(read_move_journal(s.journal)->committed);
    w.commit();
    CHECK(read_move_journal(s.tmp.path() / "absent.move") == std::nullopt);
    std::ofstream(s.tmp.path() / "bad.move") << "not a journal\n";
    CHECK(read_move_journal(s.tmp.path() / "bad.move") == std::nullopt);
    auto id = Sha1Hash{};
    id[0] = 0xab;
    MoveJournalWriter other(move_journal_path(s.tmp.path() / "moves", id),
                            {s.from, s.to, true, {}, {}, false});
    CHECK(find_move_journals(s.tmp.path() / "moves") == std::set<Sha1Hash>{id});
    CHECK(find_move_journals("").empty());
}

TEST_CASE("recover_move undoes a copy cut short: the copies go, the originals stay") {
    Scene s;
    auto w = s.start(true);
    s.copy_one(kFiles[0]);
    w.copied(kFiles[0]);
    write_with_dirs(s.to / kFiles[1], "half");  // the copy being written when btd died
    std::string log;
    CHECK(recover_move(s.journal, s.from, log) == s.from);
    CHECK(log.find("undid") != std::string::npos);
    for (const auto& f : kFiles) CHECK(read_file(s.from / f) == "data of " + f.string());
    CHECK_FALSE(fs::exists(s.to / "t"));
    CHECK_FALSE(fs::exists(s.journal));
}

TEST_CASE("recover_move finishes a committed copy: the originals left are deleted") {
    Scene s;
    auto w = s.start(true);
    for (const auto& f : kFiles) {
        s.copy_one(f);
        w.copied(f);
    }
    w.commit();
    fs::remove(s.from / kFiles[0]);  // btd died while deleting the originals
    std::string log;
    CHECK(recover_move(s.journal, s.from, log) == s.to);
    CHECK(log.find("finished") != std::string::npos);
    for (const auto& f : kFiles) CHECK(read_file(s.to / f) == "data of " + f.string());
    CHECK_FALSE(fs::exists(s.from / "t"));
    CHECK_FALSE(fs::exists(s.journal));
}

TEST_CASE("recover_move finishes renames cut short; a recorded or stale move only drops it") {
    SUBCASE("renames") {
        Scene s;
        s.start(false);
        fs::create_directories(s.to / "t");
        fs::rename(s.from / kFiles[0], s.to / kFiles[0]);
        std::string log;
        CHECK(recover_move(s.journal, s.from, log) == s.to);
        for (const auto& f : kFiles) CHECK(read_file(s.to / f) == "data of " + f.string());
        CHECK_FALSE(fs::exists(s.from / "t"));
    }
    SUBCASE("the resume data names the new place already") {
        Scene s;
        auto w = s.start(true);
        for (const auto& f : kFiles) s.copy_one(f);
        w.commit();
        std::string log;
        CHECK(recover_move(s.journal, s.to, log) == s.to);
        CHECK_FALSE(fs::exists(s.from / kFiles[1]));  // a leftover original goes
        CHECK(read_file(s.to / kFiles[1]) == "data of " + kFiles[1].string());
        CHECK_FALSE(fs::exists(s.journal));
    }
    SUBCASE("a journal for another place touches nothing") {
        Scene s;
        auto w = s.start(true);
        w.commit();
        std::string log;
        CHECK(recover_move(s.journal, s.tmp.path() / "third", log) == s.tmp.path() / "third");
        for (const auto& f : kFiles) CHECK(fs::exists(s.from / f));
        CHECK_FALSE(fs::exists(s.journal));
    }
    SUBCASE("a committed copy whose copy is missing keeps the original and the journal") {
        Scene s;
        auto w = s.start(true);
        s.copy_one(kFiles[0]);
        w.commit();
        std::string log;
        CHECK(recover_move(s.journal, s.from, log) == s.from);
        CHECK(log.find("could not finish") != std::string::npos);
        CHECK(fs::exists(s.from / kFiles[1]));
        CHECK(fs::exists(s.journal));
    }
}

TEST_CASE("move_torrent_data with a journal leaves it committed once the move is over") {
    TempDir tmp;
    auto t = make_torrent({{"t/a.bin", 70000}}, 16384);
    auto from = tmp.path() / "old", to = tmp.path() / "new";
    write_with_dirs(from / "t/a.bin", t.file_bytes(0));
    auto journal = tmp.path() / "moves" / "x.move";
    move_torrent_data(t.meta, from, to, journal);
    auto j = read_move_journal(journal);
    REQUIRE(j);
    CHECK(j->from == from);
    CHECK(j->to == to);
    CHECK(std::count(j->files.begin(), j->files.end(), fs::path("t/a.bin")) == 1);
    std::string log;
    CHECK(recover_move(journal, to, log) == to);  // the next start: recorded, dropped
    CHECK_FALSE(fs::exists(journal));
    CHECK(read_file(to / "t/a.bin") == t.file_bytes(0));
}
