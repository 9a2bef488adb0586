// libFuzzer target: the move journal (core/storage/move_journal), as btd reads it at start to
// finish or undo a move a crash interrupted. The input is the journal file. Whatever parses
// must survive a round trip: written back by MoveJournalWriter and read again, it is the same
// journal (so what recovery acts on is exactly what the mover wrote).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "core/storage/move_journal.hpp"

namespace fs = std::filesystem;
using namespace btd;

namespace {

const fs::path& work_dir() {
    static const fs::path dir = [] {
        // tmpfs where there is one: the writer fsyncs every record, which on a disk allows
        // about 40 runs a second instead of 10,000.
        fs::path base =
            fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        std::string pattern = (base / "btd-fuzz-move-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        static const auto* to_remove = new fs::path(pattern);  // outlives static destructors
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(*to_remove, ec);
        });
        return fs::path(pattern);
    }();
    return dir;
}

bool same(const MoveJournal& a, const MoveJournal& b) {
    return a.from == b.from && a.to == b.to && a.copy == b.copy && a.files == b.files &&
           a.copied == b.copied && a.committed == b.committed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = work_dir() / "input.move";
    {
        std::ofstream out(input, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto journal = read_move_journal(input);
    if (!journal) return 0;

    auto again = work_dir() / "again.move";
    MoveJournalWriter writer(again, *journal);
    for (const auto& rel : journal->copied) writer.copied(rel);
    if (journal->committed) writer.commit();
    auto reread = read_move_journal(again);
    if (!reread || !same(*journal, *reread)) std::abort();
    return 0;
}
