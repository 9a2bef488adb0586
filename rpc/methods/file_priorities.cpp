#include "rpc/methods/file_priorities.hpp"

#include <charconv>
#include <string>

#include "rpc/transport/errors.hpp"

namespace btd::rpc {

using nlohmann::json;

namespace {

int priority_value(const json& v, const std::string& where) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 7)
        throw invalid_params("file_priorities" + where +
                             " must be an integer from 0 (skip) to 7 (high), 4 = normal");
    return v.get<int>();
}

}  // namespace

void check_file_priorities_shape(const json& value, bool allow_object) {
    if (value.is_array()) return;
    if (allow_object && value.is_object()) return;
    throw invalid_params(allow_object ? "file_priorities must be an array with one priority per "
                                        "file, or an object {\"<file index>\": priority}"
                                      : "file_priorities must be an array with one priority per "
                                        "file");
}

std::vector<int> resolve_file_priorities(const json& value, const std::vector<int>& current) {
    if (value.is_array()) {
        if (value.size() != current.size())
            throw invalid_params("file_priorities has " + std::to_string(value.size()) +
                                 " values but the torrent has " + std::to_string(current.size()) +
                                 " files");
        std::vector<int> out;
        for (std::size_t i = 0; i < value.size(); ++i) {
            // Not "[" + std::to_string(i): GCC 12 at -O3 warns falsely (-Wrestrict) on it.
            std::string where(1, '[');
            where += std::to_string(i);
            where += ']';
            out.push_back(priority_value(value[i], where));
        }
        return out;
    }
    std::vector<int> out = current;
    for (const auto& [key, v] : value.items()) {
        std::size_t index = 0;
        auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
        if (ec != std::errc() || end != key.data() + key.size() || key.empty() ||
            index >= current.size())
            throw invalid_params("file_priorities: \"" + key + "\" is not a file index (0.." +
                                 std::to_string(current.size() - 1) + ")");
        out[index] = priority_value(v, "[\"" + key + "\"]");
    }
    return out;
}

}  // namespace btd::rpc
