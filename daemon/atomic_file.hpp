#pragma once
// Crash-safe file replacement for the state dir: after a crash or power loss the file holds
// either its old or its new content, never a mix.
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace btd::daemon {

// Writes `bytes` to a temp file in the same directory, fsyncs it, renames it over `file`, then
// fsyncs the directory so the rename itself is durable. Throws std::system_error naming the file.
// For many files at once, AtomicBatch (atomic_batch.hpp) is much faster.
void write_file_atomic(const std::filesystem::path& file, std::string_view bytes,
                       mode_t mode = 0644);

// The pieces write_file_atomic and AtomicBatch are made of. temp_path_for: `file` + ".tmp".
// write_temp_file creates/truncates `temp` with `bytes` and `mode`, fsyncs it if `sync_data`;
// on error it removes `temp` and throws std::system_error.
std::filesystem::path temp_path_for(const std::filesystem::path& file);
void write_temp_file(const std::filesystem::path& temp, std::string_view bytes, mode_t mode,
                     bool sync_data);

// fsyncs a directory so renames and removals in it survive a power loss; throws std::system_error.
void sync_directory(const std::filesystem::path& dir);

// Reads a whole file of at most max_bytes; throws std::runtime_error (missing, unreadable, or
// larger than max_bytes).
std::string read_file_limited(const std::filesystem::path& file, std::size_t max_bytes);

// Removes `file` if present and fsyncs its directory; errors other than "absent" are thrown.
void remove_file_durably(const std::filesystem::path& file);

}  // namespace btd::daemon
