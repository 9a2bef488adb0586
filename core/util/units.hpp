#pragma once
// Byte sizes and rates as people type them, one syntax for btctl, btd's flags and its config
// file: a decimal number with an optional binary unit (K, M, G = x1024, also spelt KB/KiB,
// case-insensitive), and for rates an optional "/s" or the word "unlimited" (= 0).
// Examples: "500", "500K", "2M", "1.5MiB/s", "1g". Pure functions, no I/O.
#include <cstdint>
#include <optional>
#include <string_view>

namespace btd {

inline constexpr std::int64_t kMaxRate = std::int64_t(1) << 40;  // 1 TiB/s: beyond any link

// What parse_rate accepts, for error messages: "'fast' is not " + kRateSyntax.
inline constexpr std::string_view kRateSyntax =
    "a rate in bytes/s: a number with an optional K, M or G (x1024), e.g. 500K, 2M or "
    "1.5MiB/s; 0 = unlimited";

// "4096", "16K", "1.5MiB", "2g" -> bytes, rounded to the nearest byte. nullopt if the text is not
// a size (no number, a sign, an exponent, an unknown unit) or the size is above `max`.
std::optional<std::int64_t> parse_size(std::string_view text, std::int64_t max);

// parse_size plus an optional "/s", and "unlimited" = 0; nullopt above kMaxRate. Bytes/s.
std::optional<std::int64_t> parse_rate(std::string_view text);

}  // namespace btd
