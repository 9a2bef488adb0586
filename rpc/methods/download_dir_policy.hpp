#pragma once
// Where RPC callers may put data: a download_dir given to torrent.add or session.set must be an
// absolute path and, when the daemon has `allowed_download_dirs`, lie inside one of them after
// resolving symlinks and "..". Pure file-system checks, no engine state; any thread.
#include <filesystem>
#include <string_view>
#include <vector>

namespace btd::rpc {

// Returns `dir` (lexically normal) or throws RpcError -32602 naming what is wrong: empty,
// relative, or outside every allowed dir (the message names the `allowed_download_dirs`
// setting). The check uses the canonical path of the longest existing prefix, so a symlink
// inside an allowed dir that points outside it is refused.
std::filesystem::path checked_download_dir(std::string_view dir,
                                           const std::vector<std::filesystem::path>& allowed);

// True if `path` is `dir` or below it, comparing whole components (/srv/a is not in /srv/ab).
bool path_within(const std::filesystem::path& path, const std::filesystem::path& dir);

}  // namespace btd::rpc
