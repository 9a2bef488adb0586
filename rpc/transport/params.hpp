#pragma once
// Reading named params with errors (-32602) that tell the caller what to fix.
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace btd::rpc {

// Throws invalid params unless params is an object (named params).
const nlohmann::json& require_object(const nlohmann::json& params);
// Throws invalid params naming the first member not in `known`.
void reject_unknown(const nlohmann::json& params, std::initializer_list<std::string_view> known);

std::optional<std::string> optional_string(const nlohmann::json& params, std::string_view key);
std::optional<bool> optional_bool(const nlohmann::json& params, std::string_view key);
// An array of strings ([] allowed).
std::optional<std::vector<std::string>> optional_string_list(const nlohmann::json& params,
                                                             std::string_view key);
// Integer within [min, max].
std::optional<std::int64_t> optional_int(const nlohmann::json& params, std::string_view key,
                                         std::int64_t min, std::int64_t max);
std::optional<double> optional_number(const nlohmann::json& params, std::string_view key,
                                      double min);
std::string required_string(const nlohmann::json& params, std::string_view key);

}  // namespace btd::rpc
