#pragma once
// JSON views of the engine's status structs (the shapes documented in rpc/README.md).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/session/types.hpp"

namespace btd::rpc {

// Names of every member of a torrent summary, in output order.
const std::vector<std::string>& summary_fields();

// A set of summary members: bit i stands for summary_fields()[i].
using SummaryFields = std::uint32_t;
SummaryFields all_summary_fields();
// The bit of a member name, or 0 if there is no such member.
SummaryFields summary_field_bit(std::string_view name);

nlohmann::json to_json(const TorrentStatus& status);
// Appends the summary as JSON text, only the members in `fields` (id always), the same text as
// dumping the matching members of to_json(status): only those members are formatted.
void append_summary(std::string& out, const TorrentStatus& status, SummaryFields fields);
nlohmann::json to_json(const TorrentDetails& details);
nlohmann::json to_json(const SessionStats& stats);
nlohmann::json to_json(const SessionSettings& settings);

}  // namespace btd::rpc
