#pragma once
// files-wanted, files-unwanted and priority-high/-low/-normal of torrent-add and torrent-set,
// turned into btd's per-file priorities (internal). Indices count files as Transmission lists
// them (no pad files); an empty list means every file.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

namespace btd::rpc::transmission {

struct FileChoices {
    std::optional<std::vector<std::int64_t>> wanted, unwanted, high, low, normal;
    bool any() const { return wanted || unwanted || high || low || normal; }
};

FileChoices read_file_choices(const nlohmann::json& args);

// `current`: btd priorities, one per file including pad files; `visible`: btd index of each
// Transmission index. Wanted files come back at normal priority (btd keeps no priority for a
// skipped file), priorities change only wanted files, then unwanted files are skipped. Throws
// MethodError for an index out of range.
std::vector<int> apply_file_choices(const FileChoices& choices, std::vector<int> current,
                                    const std::vector<int>& visible, std::string_view method);

}  // namespace btd::rpc::transmission
