#include "core/util/units.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "core/util/ascii.hpp"

namespace btd {
namespace {

struct Unit {
    std::string_view suffix;  // lower-case
    double scale;
};

// Longest spelling first, so "kib" is not read as "b".
constexpr Unit kUnits[] = {
    {"kib", 1024.0},       {"kb", 1024.0},       {"k", 1024.0},         {"mib", 1024.0 * 1024},
    {"mb", 1024.0 * 1024}, {"m", 1024.0 * 1024}, {"gib", 1073741824.0}, {"gb", 1073741824.0},
    {"g", 1073741824.0},   {"b", 1.0},
};

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

double take_unit(std::string_view& s) {
    for (const auto& unit : kUnits) {
        if (ends_with(s, unit.suffix)) {
            s.remove_suffix(unit.suffix.size());
            return unit.scale;
        }
    }
    return 1.0;
}

// Digits with an optional decimal point; no sign, exponent, hex or inf/nan.
std::optional<double> parse_decimal(std::string_view s) {
    auto digit_or_point = [](char c) { return (c >= '0' && c <= '9') || c == '.'; };
    if (s.empty() || !std::all_of(s.begin(), s.end(), digit_or_point)) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<std::int64_t> parse_size(std::string_view text, std::int64_t max) {
    std::string lower = ascii_lower(text);
    std::string_view s = lower;
    double scale = take_unit(s);
    auto number = parse_decimal(s);
    if (!number) return std::nullopt;
    double bytes = std::round(*number * scale);
    if (bytes > static_cast<double>(max)) return std::nullopt;
    return static_cast<std::int64_t>(bytes);
}

std::optional<std::int64_t> parse_rate(std::string_view text) {
    std::string lower = ascii_lower(text);
    std::string_view s = lower;
    if (s == "unlimited") return 0;
    if (ends_with(s, "/s")) s.remove_suffix(2);
    return parse_size(s, kMaxRate);
}

}  // namespace btd
