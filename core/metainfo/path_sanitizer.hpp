#pragma once
// Rules that keep torrent-supplied file names inside the download directory.
#include <string>
#include <string_view>
#include <vector>

namespace btd {

inline constexpr std::size_t kMaxPathComponentBytes = 255;  // NAME_MAX on common filesystems

// Throws MetainfoError unless `component` is safe as one element of a relative path: not empty,
// not "." or "..", no '/', no NUL or other control characters, at most 255 bytes.
// `where` names the offending path in the message (e.g. "file #3 path \"a/b\"").
void check_path_component(std::string_view component, std::string_view where);

// Throws MetainfoError if two entries name the same path, or one file's path is a directory of
// another's ("a" and "a/b"). Entries are relative paths with components joined by '/'.
void check_path_conflicts(const std::vector<std::string>& paths);

// For error messages: the string with control and non-ASCII bytes escaped as \xNN, shortened.
std::string printable_path(std::string_view path);

}  // namespace btd
