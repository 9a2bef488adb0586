#pragma once
// Byte-range arithmetic between a torrent's files and its pieces: which pieces a file touches,
// how many bytes of a file or of the torrent verified pieces cover, which pieces a short file
// cuts off, and each piece's priority from its files'. Pure functions of the metainfo; any thread.
#include <cstdint>
#include <utility>
#include <vector>

#include "core/metainfo/metainfo.hpp"
#include "core/session/types.hpp"
#include "core/storage/file_stat.hpp"
#include "core/util/bitfield.hpp"

namespace btd::piece_layout {

// First and last piece holding bytes [begin, end) of the torrent; end > begin.
std::pair<int, int> piece_span(const Metainfo& meta, std::int64_t begin, std::int64_t end);
// Sets the pieces holding any byte of `file` (nothing for an empty file).
void mark_file_pieces(const Metainfo& meta, int file, std::vector<bool>& pieces);
// Pieces with bytes past the current end of a file (missing or short): never had.
std::vector<bool> pieces_past_file_ends(const Metainfo& meta, const std::vector<FileIdentity>& now);
// Bytes of all pieces in `have` (the last piece may be short).
std::int64_t have_bytes(const Metainfo& meta, const Bitfield& have);
// Bytes of `file` inside pieces in `have`.
std::int64_t file_have_bytes(const Metainfo& meta, const FileEntry& file, const Bitfield& have);

// What the file priorities mean for the pieces.
struct PiecePriorities {
    std::vector<std::uint8_t> pieces;  // a piece is as important as its most important file
    std::vector<bool> skipped_files;   // priority 0, with data
    std::int64_t wanted_size = 0;      // bytes of the files not skipped
    bool skips_files = false;          // some file with data has priority 0
};
// One priority per file; pad and empty files do not count.
PiecePriorities piece_priorities(const Metainfo& meta, const std::vector<std::uint8_t>& files);
// Throws SessionError{invalid_argument} unless there is one priority in 0..7 per file.
void check_file_priorities(const Metainfo& meta, const std::vector<int>& priorities);

}  // namespace btd::piece_layout
