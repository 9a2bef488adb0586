#pragma once
// The move journal: a small file per torrent whose data is being moved (relocate.hpp), written
// before the first file moves, so a crash in the middle of a move loses no piece. At the next
// start the torrent finishes the move, or undoes it, before its data is checked
// (recover_move in relocate.hpp). Disk pool only: every function here does file-system I/O.
//
// Format (text, one record per line, paths hex-encoded so any byte may appear in them):
//   btd-move 1
//   from <hex>            where the data was
//   to <hex>              where it goes
//   mode copy|rename      across file systems (copy, then delete) or within one (rename)
//   file <hex>            one line per file moved, relative to from/to
//   copied <hex>          appended once that copy is whole and synced (copy mode)
//   commit                appended once every copy is whole: from here on the move goes forward
// Each record is synced before the step it announces starts.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/metainfo/metainfo.hpp"
#include "core/util/hash.hpp"

namespace btd {

struct MoveJournal {
    std::filesystem::path from;
    std::filesystem::path to;
    bool copy = false;  // false: renames on one file system
    std::vector<std::filesystem::path> files;
    std::set<std::filesystem::path> copied;
    bool committed = false;
};

// <dir>/<info-hash hex>.move; empty when dir is empty (no journal kept).
std::filesystem::path move_journal_path(const std::filesystem::path& dir, const Sha1Hash& id);

// The ids of every torrent with a journal in `dir` (none if dir is empty or absent).
std::set<Sha1Hash> find_move_journals(const std::filesystem::path& dir);

// Appends to a journal, syncing each record. An empty path makes every call a no-op. Throws
// StorageError naming the journal if it cannot be written: a move then does not start.
class MoveJournalWriter {
  public:
    MoveJournalWriter() = default;
    // Writes the header and the file list (replacing any older journal at `path`).
    MoveJournalWriter(std::filesystem::path path, const MoveJournal& start);
    void copied(const std::filesystem::path& rel);
    void commit();

  private:
    void append(const std::string& line);
    std::filesystem::path path_;
};

// Parses a journal; nullopt if it is missing, unreadable or malformed (a torn first write).
std::optional<MoveJournal> read_move_journal(const std::filesystem::path& path);

// Removes the journal (absent is fine).
void remove_move_journal(const std::filesystem::path& path);

}  // namespace btd
