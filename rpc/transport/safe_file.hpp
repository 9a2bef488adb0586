#pragma once
// Reading the daemon's state files (rpc.secret, settings.json, resume data, the job list) without
// trusting what is at the path: a FIFO or device must not hang the start, a symlink must not lead
// elsewhere, a huge file must not be slurped. A file that cannot be used is set aside
// (`<name>.corrupt-<timestamp>`) so the daemon starts without it and the bytes are kept for the
// user. Plain functions, callable from any thread.
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace btd::rpc {

class StateFileError : public std::runtime_error {
  public:
    enum class Kind {
        missing,      // no such file
        unreadable,   // open/read failed (permissions, I/O error): leave the file alone
        not_regular,  // a FIFO, device, directory or symlink: unusable as it is
        too_large,    // larger than the caller's limit
    };
    StateFileError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

  private:
    Kind kind_;
};

// Opens with O_NONBLOCK | O_NOFOLLOW (a FIFO cannot block, a symlink is refused unless
// `follow_symlinks`, e.g. for the user's config file), checks that it is a regular file of at
// most max_bytes (fstat), and reads it whole, never past max_bytes even if it grows meanwhile.
// Throws StateFileError naming the file and the reason.
std::string read_regular_file(const std::filesystem::path& file, std::size_t max_bytes,
                              bool follow_symlinks = false);

// The name a corrupt file is set aside under: `<file>.corrupt-<YYYYmmddTHHMMSSZ>` (UTC), with a
// counter appended if that name is taken.
std::filesystem::path corrupt_name_for(const std::filesystem::path& file);

// Renames `file` to corrupt_name_for(file) and logs a warning with `reason` and the new name.
// Returns the new path, or an empty path if the rename failed (logged too). Never throws.
std::filesystem::path set_aside_corrupt(const std::filesystem::path& file, std::string_view reason);

}  // namespace btd::rpc
