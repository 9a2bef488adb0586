#include "rpc/transport/json_parse.hpp"

namespace btd::rpc {

std::size_t json_nesting_depth(std::string_view text, std::size_t limit) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                break;
            case '[':
            case '{':
                if (++depth > deepest) deepest = depth;
                if (deepest > limit) return limit + 1;
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;  // unbalanced text is the parser's problem
                break;
            default:
                break;
        }
    }
    return deepest;
}

std::optional<nlohmann::json> parse_json_limited(std::string_view text, std::size_t max_depth) {
    if (json_nesting_depth(text, max_depth) > max_depth) return std::nullopt;
    auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return std::nullopt;
    return value;
}

std::string dump_json(const nlohmann::json& value, int indent) {
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace btd::rpc
