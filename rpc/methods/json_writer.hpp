#pragma once
// Appends JSON text straight to a string, for large results (torrent.list) that would cost
// more to build as an nlohmann::json tree, dump and free. The text is what dump_json() gives
// for the same values (strings escaped the same way, invalid UTF-8 replaced by U+FFFD).
#include <cstdint>
#include <string>
#include <string_view>

namespace btd::rpc {

void append_json_string(std::string& out, std::string_view value);
void append_json_number(std::string& out, std::int64_t value);
void append_json_number(std::string& out, double value);  // null if not finite
inline void append_json_bool(std::string& out, bool value) {
    out += value ? "true" : "false";
}

}  // namespace btd::rpc
