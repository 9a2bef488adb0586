#pragma once
// Reading Transmission request arguments (internal). Wrong types throw MethodError naming the
// argument. Booleans may also come as 0/1, as libtransmission accepts.
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace btd::rpc::transmission {

std::optional<bool> get_bool(const nlohmann::json& args, std::string_view key);
std::optional<std::int64_t> get_int(const nlohmann::json& args, std::string_view key,
                                    std::int64_t min, std::int64_t max);
std::optional<double> get_number(const nlohmann::json& args, std::string_view key, double min);
std::optional<std::string> get_string(const nlohmann::json& args, std::string_view key);
// A list of file indices (files-wanted, priority-high, ...).
std::optional<std::vector<std::int64_t>> get_indices(const nlohmann::json& args,
                                                     std::string_view key);
// `labels` as Transmission 4 takes them: an array of strings, checked as btd's own labels
// (core/session/labels.hpp) with the reason in the MethodError.
std::optional<std::vector<std::string>> get_labels(const nlohmann::json& args,
                                                   std::string_view method);

// Throws MethodError listing every argument not in `known`: btd refuses what it would otherwise
// silently ignore, so a client learns that a setting did not take.
void reject_unsupported(const nlohmann::json& args, std::string_view method,
                        std::initializer_list<std::string_view> known);

// Transmission speeds are in kB/s (1000 bytes); btd's in bytes/s.
inline constexpr std::int64_t kSpeedUnit = 1000;

}  // namespace btd::rpc::transmission
