#pragma once
// The `file_priorities` param of torrent.add and torrent.set: either an array with one priority
// per file, or (torrent.set) an object {"<file index>": priority} that changes only those files.
// Priorities are 0 (skip) to 7 (high), 4 = normal.
#include <nlohmann/json.hpp>
#include <vector>

namespace btd::rpc {

// Throws invalid params unless `value` has the shape of the param (values are checked later).
void check_file_priorities_shape(const nlohmann::json& value, bool allow_object);

// The full list for a torrent with `current.size()` files. Throws invalid params (-32602) naming
// the offending index or value.
std::vector<int> resolve_file_priorities(const nlohmann::json& value,
                                         const std::vector<int>& current);

}  // namespace btd::rpc
