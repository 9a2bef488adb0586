#pragma once
// Human-readable output: units, durations, and the aligned torrent table.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace btd::btctl {

std::string human_size(std::int64_t bytes);        // "0 B", "512 B", "1.5 KiB", "2.00 GiB"
std::string human_rate(std::int64_t bytes_per_s);  // "1.5 MiB/s", "0 B/s"
std::string human_eta(
    std::int64_t seconds);  // "-" if unknown (<0), "45s", "12m 05s", "1h 02m", "3d 04h"
std::string human_percent(double fraction);         // 0.4567 -> "45.7%"
std::string human_time(std::int64_t unix_seconds);  // "2026-11-30 10:21:52 UTC"

// Number of characters (UTF-8 code points) in s.
std::size_t display_width(std::string_view s);
// Cuts s to at most `width` code points, ending in "..." when cut; never splits a character.
std::string truncate_display(std::string_view s, std::size_t width);

// Rows of cells -> lines with columns padded to the widest cell; `right_aligned[i]` for numbers.
std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_aligned);

// The `list` table from torrent.list's result; "no torrents" when empty.
std::string format_torrent_list(const nlohmann::json& torrents, std::size_t name_width = 40);
std::string format_torrent_info(const nlohmann::json& details);
std::string priority_name(int priority);  // skip, low, normal, high, or "priority N"
std::string format_stats(const nlohmann::json& stats);

}  // namespace btd::btctl
