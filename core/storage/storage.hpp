#pragma once
// Maps piece data onto the torrent's files. Thread-safe: called only from the disk pool.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/metainfo/metainfo.hpp"
#include "core/util/bitfield.hpp"

namespace btd {

class StorageError : public std::runtime_error {
    using std::runtime_error::runtime_error;  // message names the file and the OS error
};

class Storage {
public:
    Storage(const Metainfo& meta, std::filesystem::path download_dir);
    ~Storage();

    // Writes a whole verified piece; skips pad files; creates directories and files as needed.
    void write_piece(int piece, std::span<const std::uint8_t> data);
    // Reads part of a piece (for uploading). Throws StorageError if a file is missing/short.
    void read(int piece, int offset, std::span<std::uint8_t> out);
    // Reads and hashes a piece from disk; false if any file is missing, short or the hash differs.
    bool check_piece(int piece);
    // Creates every (non-pad) file at its final size so zero-length files exist too.
    void create_files();
    void flush();                // fsync open files (before resume data claims pieces)
    void close_files();          // drop cached handles (e.g. before delete)
    void delete_files();         // removes the torrent's files and empty directories it created

    const Metainfo& metainfo() const;
    const std::filesystem::path& download_dir() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace btd
