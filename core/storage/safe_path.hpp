#pragma once
// Opening torrent files without ever leaving the download directory: paths are checked
// lexically, then walked one component at a time with O_NOFOLLOW so a planted symlink (in a
// directory or at the file itself) is refused instead of followed.
#include <filesystem>
#include <string>
#include <vector>

namespace btd {

struct Metainfo;

// dir/entry made relative and normal ("a/b/c"); throws StorageError if it would name dir itself
// or anything outside it.
std::filesystem::path checked_relative_path(const std::filesystem::path& dir,
                                            const std::filesystem::path& entry);

// checked_relative_path of every file of `meta` (an empty path for pad files), after checking
// that the files' offsets and lengths tile the torrent; throws StorageError otherwise.
std::vector<std::filesystem::path> checked_file_paths(const Metainfo& meta,
                                                      const std::filesystem::path& dir);

// Opens dir/rel_dir (a checked relative path, may be empty) as a directory fd, walking each
// component without following symlinks; with `create`, missing directories (and dir itself) are
// made. Returns -1 and sets errno on failure.
int open_dir_nofollow(const std::filesystem::path& dir, const std::filesystem::path& rel_dir,
                      bool create);

// Opens dir/rel (a checked relative path) with `flags` | O_NOFOLLOW | O_CLOEXEC, mode 0644.
// With `create_dirs`, parent directories are made first. Returns -1 and sets errno on failure.
int open_file_nofollow(const std::filesystem::path& dir, const std::filesystem::path& rel,
                       int flags, bool create_dirs);

// unlinkat() of dir/rel without following symlinks on the way (AT_REMOVEDIR for directories).
// Returns 0 or -1 with errno.
int unlink_nofollow(const std::filesystem::path& dir, const std::filesystem::path& rel,
                    bool is_directory);

// "cannot <what> 'path': <strerror(err)>", with a clearer word for refused symlinks.
std::string os_error_message(const std::string& what, const std::filesystem::path& path, int err);

}  // namespace btd
