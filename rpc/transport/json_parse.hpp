#pragma once
// Parsing untrusted JSON: nesting depth is checked on the raw text BEFORE nlohmann builds a tree,
// because copying, dumping or destroying a deeply nested value recurses and can overflow the stack.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace btd::rpc {

inline constexpr std::size_t kDefaultMaxJsonDepth = 64;

// Deepest array/object nesting in `text` (brackets inside strings don't count). Stops counting
// once `limit` is exceeded, returning limit + 1.
std::size_t json_nesting_depth(std::string_view text, std::size_t limit);

// nullopt if the text is not valid JSON or nests deeper than max_depth.
std::optional<nlohmann::json> parse_json_limited(std::string_view text,
                                                 std::size_t max_depth = kDefaultMaxJsonDepth);

// Serialises without throwing on invalid UTF-8 (torrent names often are): bad bytes become U+FFFD.
std::string dump_json(const nlohmann::json& value, int indent = -1);

}  // namespace btd::rpc
