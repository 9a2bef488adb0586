#pragma once
// A validated v1 .torrent (BEP 3, 12, 27, 47). Paths are already made safe: every FileEntry::path
// is relative, has no "..", "." or empty components, and stays inside the download directory.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/hash.hpp"

namespace btd {

class MetainfoError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct FileEntry {
    std::filesystem::path path;  // relative to the download directory, includes the torrent name
    std::int64_t length = 0;
    std::int64_t offset = 0;  // offset of the file's first byte in the torrent's byte stream
    bool pad = false;         // BEP 47 pad file: counts toward piece data, never written to disk
};

struct Metainfo {
    Sha1Hash info_hash{};
    std::string name;
    std::int64_t piece_length = 0;
    // Empty after parse_metainfo, which leaves the hashes in raw_info (one copy of 20 bytes per
    // piece, not two); set by hand-made metainfo. Read them with piece_hash().
    std::vector<Sha1Hash> piece_hashes;
    std::vector<FileEntry> files;
    std::int64_t total_size = 0;
    std::vector<std::vector<std::string>> announce_tiers;  // BEP 12; `announce` alone = one tier
    bool is_private = false;
    std::string comment;
    std::string created_by;
    std::int64_t creation_date = 0;
    std::string raw_info;  // the exact bencoded info dictionary (for metadata exchange later)
    std::size_t raw_pieces_offset = 0;  // where the hashes start in raw_info (parse_metainfo)
    int raw_piece_count = 0;            // how many hashes raw_info holds there

    int num_pieces() const {
        return piece_hashes.empty() ? raw_piece_count : static_cast<int>(piece_hashes.size());
    }
    Sha1Hash piece_hash(int index) const;  // index must be in [0, num_pieces())
    // The last piece may be shorter; throws std::out_of_range for an index outside the torrent.
    std::int64_t piece_size(int index) const;
};

inline constexpr std::int64_t kMaxTorrentFileBytes = 64 * 1024 * 1024;
inline constexpr std::int64_t kMaxPieceLength = 128 * 1024 * 1024;

// Parses and validates a .torrent; throws MetainfoError with a message a user can act on.
Metainfo parse_metainfo(std::string_view torrent_bytes);
Metainfo load_metainfo_file(const std::filesystem::path& file);  // size-limited read + parse

}  // namespace btd
