#include "rpc/transport/params.hpp"

#include <algorithm>

#include "rpc/transport/errors.hpp"

namespace btd::rpc {
namespace {

using nlohmann::json;

const json* find(const json& params, std::string_view key) {
    auto it = params.find(key);
    return (it == params.end() || it->is_null()) ? nullptr : &*it;
}

}  // namespace

const json& require_object(const json& params) {
    if (!params.is_object()) throw invalid_params("params must be an object with named members");
    return params;
}

void reject_unknown(const json& params, std::initializer_list<std::string_view> known) {
    for (const auto& item : params.items()) {
        if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
            std::string list;
            for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
            throw invalid_params("unknown param '" + item.key() + "' (expected: " + list + ")");
        }
    }
}

std::optional<std::string> optional_string(const json& params, std::string_view key) {
    const json* v = find(params, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) throw invalid_params(std::string(key) + " must be a string");
    return v->get<std::string>();
}

std::optional<std::vector<std::string>> optional_string_list(const json& params,
                                                             std::string_view key) {
    const json* v = find(params, key);
    if (!v) return std::nullopt;
    auto wrong = [&] { return invalid_params(std::string(key) + " must be an array of strings"); };
    if (!v->is_array()) throw wrong();
    std::vector<std::string> out;
    for (const auto& item : *v) {
        if (!item.is_string()) throw wrong();
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::optional<bool> optional_bool(const json& params, std::string_view key) {
    const json* v = find(params, key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) throw invalid_params(std::string(key) + " must be true or false");
    return v->get<bool>();
}

std::optional<std::int64_t> optional_int(const json& params, std::string_view key, std::int64_t min,
                                         std::int64_t max) {
    const json* v = find(params, key);
    if (!v) return std::nullopt;
    bool ok = v->is_number_integer() &&
              (v->is_number_unsigned() ? v->get<std::uint64_t>() <= static_cast<std::uint64_t>(max)
                                       : true);
    if (ok) {
        auto n = v->get<std::int64_t>();
        if (n >= min && n <= max) return n;
    }
    throw invalid_params(std::string(key) + " must be an integer from " + std::to_string(min) +
                         " to " + std::to_string(max));
}

std::optional<double> optional_number(const json& params, std::string_view key, double min) {
    const json* v = find(params, key);
    if (!v) return std::nullopt;
    if (!v->is_number() || v->get<double>() < min)
        throw invalid_params(std::string(key) + " must be a number >= " + std::to_string(min));
    return v->get<double>();
}

std::string required_string(const json& params, std::string_view key) {
    auto v = optional_string(params, key);
    if (!v) throw invalid_params("missing param '" + std::string(key) + "'");
    return *v;
}

}  // namespace btd::rpc
