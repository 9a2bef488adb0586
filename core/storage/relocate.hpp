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
void move_torrent_data(const Metainfo& meta, const std::filesystem::path& from,
                       const std::filesystem::path& to);

// The relative paths move_torrent_data moves: files with data (no pad files), then the part
// store's directory name.
std::vector<std::filesystem::path> data_paths(const Metainfo& meta);

}  // namespace btd
