#include "rpc/transmission/arguments.hpp"

#include <algorithm>

#include "core/session/labels.hpp"
#include "core/session/types.hpp"
#include "rpc/transmission/transmission_rpc.hpp"

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;

const json* find(const json& args, std::string_view key) {
    auto it = args.find(key);
    return it == args.end() || it->is_null() ? nullptr : &*it;
}

MethodError wrong_type(std::string_view key, std::string_view expected) {
    return MethodError("invalid argument: \"" + std::string(key) + "\" must be " +
                       std::string(expected));
}

}  // namespace

std::optional<bool> get_bool(const json& args, std::string_view key) {
    const json* v = find(args, key);
    if (!v) return std::nullopt;
    if (v->is_boolean()) return v->get<bool>();
    if (v->is_number_integer() && (*v == 0 || *v == 1)) return *v == 1;
    throw wrong_type(key, "a boolean");
}

std::optional<std::vector<std::string>> get_labels(const json& args, std::string_view method) {
    const json* v = find(args, "labels");
    if (!v) return std::nullopt;
    if (!v->is_array()) throw wrong_type("labels", "an array of strings");
    std::vector<std::string> labels;
    for (const auto& item : *v) {
        if (!item.is_string()) throw wrong_type("labels", "an array of strings");
        labels.push_back(item.get<std::string>());
    }
    try {
        return checked_labels(labels);
    } catch (const SessionError& e) {
        throw MethodError(std::string(method) + ": " + e.what());
    }
}

std::optional<std::int64_t> get_int(const json& args, std::string_view key, std::int64_t min,
                                    std::int64_t max) {
    const json* v = find(args, key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() || *v < min || *v > max)
        throw wrong_type(key,
                         "an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return v->get<std::int64_t>();
}

std::optional<double> get_number(const json& args, std::string_view key, double min) {
    const json* v = find(args, key);
    if (!v) return std::nullopt;
    if (!v->is_number() || v->get<double>() < min)
        throw wrong_type(key, "a number >= " + std::to_string(min));
    return v->get<double>();
}

std::optional<std::string> get_string(const json& args, std::string_view key) {
    const json* v = find(args, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) throw wrong_type(key, "a string");
    return v->get<std::string>();
}

std::optional<std::vector<std::int64_t>> get_indices(const json& args, std::string_view key) {
    const json* v = find(args, key);
    if (!v) return std::nullopt;
    if (!v->is_array()) throw wrong_type(key, "a list of file indices");
    std::vector<std::int64_t> out;
    for (const auto& i : *v) {
        if (!i.is_number_integer() || i < 0) throw wrong_type(key, "a list of file indices");
        out.push_back(i.get<std::int64_t>());
    }
    return out;
}

void reject_unsupported(const json& args, std::string_view method,
                        std::initializer_list<std::string_view> known) {
    std::string unsupported;
    for (const auto& [key, value] : args.items())
        if (std::find(known.begin(), known.end(), key) == known.end())
            unsupported += (unsupported.empty() ? "" : ", ") + key;
    if (!unsupported.empty())
        throw MethodError(std::string(method) + ": btd does not support " + unsupported +
                          " (nothing was changed)");
}

}  // namespace btd::rpc::transmission
