#pragma once
// Where the bytes of skipped files go when a piece they share with a wanted file is written: not
// into the skipped file (a full-size sparse file that media servers would pick up), but into a
// hidden directory `.btd.<info-hash hex>.parts` in the download dir, one file per piece named by
// its index, each byte at its offset in the piece. (libtorrent keeps them in one file named
// `.<info-hash hex>.parts`; our name differs so a libtorrent client's file in the same download
// dir is never in the way.)
//
// Not thread-safe: Storage serialises every call with its own mutex. Paths are opened without
// following symlinks (safe_path.hpp). Throws StorageError naming the file on I/O errors.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/util/hash.hpp"

namespace btd {

class PartStore {
  public:
    PartStore(std::filesystem::path download_dir, const Sha1Hash& info_hash);

    static std::string dir_name(const Sha1Hash& info_hash);  // ".btd.<hex>.parts"

    // Stores bytes of `piece` at `offset` in the piece; creates the directory as needed.
    void write(int piece, std::int64_t offset, std::span<const std::uint8_t> data);
    // Throws StorageError if the piece is not stored or too short.
    void read(int piece, std::int64_t offset, std::span<std::uint8_t> out) const;
    // From an index of the directory, listed once (no system call per question).
    bool has(int piece);
    std::vector<int> pieces_in(int first, int last);  // stored pieces in [first, last]
    void remove(int piece);                           // and the directory once it is empty
    void remove_all();  // the whole directory (nothing else ever goes into it)
    void flush();       // fsync the pieces written since the last flush, and the directory

    std::filesystem::path path() const { return dir_ / rel_dir_; }

  private:
    std::filesystem::path piece_path(int piece) const;  // relative to dir_
    std::set<int>& index();                             // lists the directory the first time

    std::filesystem::path dir_;
    std::filesystem::path rel_dir_;
    std::optional<std::set<int>> index_;  // pieces stored
    std::set<int> unsynced_;
};

}  // namespace btd
