#pragma once
// Whole-buffer positional I/O on one of a torrent's open files: short reads and writes are
// continued, EINTR retried, and every failure becomes a StorageError naming the file.
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "core/storage/file_cache.hpp"
#include "core/storage/file_stat.hpp"

namespace btd {

// Writes all n bytes at pos; throws StorageError (with errno, e.g. ENOSPC) on failure.
void pwrite_all(const OpenFile& f, const std::uint8_t* data, std::size_t n, std::int64_t pos,
                const std::filesystem::path& name);

// Reads exactly n bytes at pos; a file shorter than that is an error, not zeros.
void pread_all(const OpenFile& f, std::uint8_t* data, std::size_t n, std::int64_t pos,
               const std::filesystem::path& name);

// The identity of the open file (empty when fstat fails).
FileIdentity fstat_identity(const OpenFile& f);

}  // namespace btd
