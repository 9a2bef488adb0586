#pragma once
// JSON views of the engine's status structs (the shapes documented in rpc/README.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/session/types.hpp"

namespace btd::rpc {

// Names of every member of a torrent summary, in output order.
const std::vector<std::string>& summary_fields();

nlohmann::json to_json(const TorrentStatus& status);
nlohmann::json to_json(const TorrentDetails& details);
nlohmann::json to_json(const SessionStats& stats);
nlohmann::json to_json(const SessionSettings& settings);

}  // namespace btd::rpc
