#pragma once
// Settings changed at run time (RPC session.set) live in <state>/settings.json, never in the
// user's config file. The file holds only the keys whose value differs from the config, and is
// applied over the config at start and after a reload. When a reload finds a key changed in the
// config file itself, the file's new value wins and the runtime override of that key is dropped:
// the most recent change wins.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/session/types.hpp"

namespace btd::daemon {

inline constexpr const char* kRuntimeSettingsFile = "settings.json";

// Object of the runtime-settable keys (the settings table's kRpc rows: download_dir,
// listen_port, the rate limits, ...) whose value in `now` differs from `base`.
nlohmann::json runtime_overrides(const SessionSettings& base, const SessionSettings& now);

// The overrides to keep after session.set left the session at `now`. `last_port` is the port
// the session listened on before: when the port did not move, the stored listen_port override
// (or its absence) stays, since with a config port of 0 the session reports the port it got,
// which is no change of the user's. A moved port is kept unless it equals the config's.
nlohmann::json overrides_after_set(const nlohmann::json& current, const SessionSettings& base,
                                   const SessionSettings& now, std::uint16_t last_port);

// `base` with every valid override applied (names and ranges of the settings table); unknown
// keys and bad values are logged and skipped.
SessionSettings apply_overrides(SessionSettings base, const nlohmann::json& overrides);

// Removes from `overrides` the keys whose config value changed between old_base and new_base.
// Returns the names removed.
std::vector<std::string> drop_overrides_changed_in_config(nlohmann::json& overrides,
                                                          const SessionSettings& old_base,
                                                          const SessionSettings& new_base);

// The content of settings.json: a JSON object nested at most a few levels deep (checked before
// a tree is built); nullopt otherwise. Pure (fuzzable).
std::optional<nlohmann::json> parse_runtime_overrides(std::string_view text);

// An empty object when the file is absent. A corrupt file (bad JSON, too deep, not an object, not
// a regular file, over 1 MiB) is set aside as `settings.json.corrupt-<time>` with a warning and
// treated as empty; an unreadable one (permissions) is logged and left in place.
nlohmann::json load_runtime_overrides(const std::filesystem::path& state_dir);
void save_runtime_overrides(const std::filesystem::path& state_dir,
                            const nlohmann::json& overrides);

}  // namespace btd::daemon
