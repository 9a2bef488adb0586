#pragma once
// Moving a torrent's data to another directory, for Session::set_location: its files and its
// part store (part_store.hpp). Runs on the disk pool, with the torrent's Storage closed; paths are
// walked without following symlinks (safe_path.hpp).
#include <filesystem>
#include <string>
#include <vector>

#include "core/metainfo/metainfo.hpp"

namespace btd {

// Moves what exists of the torrent's files from `from` to `to` (created if missing), replacing
// files of the same name there. On one file system each file is renamed. Across file systems
// every file is copied and synced first, and the originals are deleted only once all copies are
// whole: a crash or an error before then leaves `from` complete (the daemon's resume data still
// names it). Emptied directories under `from` are removed. Throws StorageError naming the file;
// on an error, files already renamed are renamed back and partial copies are removed.
// With a `journal` path, each step is written there first (move_journal.hpp). A move that failed
// and was undone removes it; a finished one leaves it, committed, until the next move or
// recover_move: the daemon may not have saved the new place yet.
void move_torrent_data(const Metainfo& meta, const std::filesystem::path& from,
                       const std::filesystem::path& to, const std::filesystem::path& journal = {});

// The relative paths move_torrent_data moves: files with data (no pad files), then the part
// store's directory name.
std::vector<std::filesystem::path> data_paths(const Metainfo& meta);

// After a crash: where the torrent's data is once the journal at `path` has been acted on, given
// the download dir its resume data names. A journal whose move the resume data already records
// (dir == to), or that names another dir, is only removed (with a committed copy's leftovers at
// `from` deleted when dir == to). Otherwise (dir == from): a rename or committed copy is finished
// (the rest renamed, the originals deleted) and `to` returned; an uncommitted copy is undone
// (the copies deleted) and `from` returned. The journal is removed afterwards. Never throws:
// what cannot be done is in `log`.
std::filesystem::path recover_move(const std::filesystem::path& path,
                                   const std::filesystem::path& dir, std::string& log);

}  // namespace btd
