#include "daemon/runtime_settings.hpp"

#include <spdlog/spdlog.h>

#include "daemon/atomic_file.hpp"
#include "daemon/settings.hpp"
#include "rpc/transport/json_parse.hpp"
#include "rpc/transport/safe_file.hpp"

namespace btd::daemon {

using nlohmann::json;

namespace {

// The runtime-settable keys as JSON: the table's RPC settings.
json settable(const SessionSettings& s) {
    return rpc_settings(s);
}

constexpr std::size_t kMaxSettingsBytes = 1024 * 1024;
constexpr std::size_t kMaxSettingsDepth = 8;  // the file is one flat object

}  // namespace

json runtime_overrides(const SessionSettings& base, const SessionSettings& now) {
    json out = json::object();
    auto a = settable(base), b = settable(now);
    for (auto& [key, value] : b.items())
        if (a[key] != value) out[key] = value;
    return out;
}

json overrides_after_set(const json& current, const SessionSettings& base,
                         const SessionSettings& now, std::uint16_t last_port) {
    auto fresh = runtime_overrides(base, now);
    if (now.listen_port == last_port) {
        fresh.erase("listen_port");
        if (current.is_object() && current.contains("listen_port"))
            fresh["listen_port"] = current["listen_port"];
    }
    return fresh;
}

SessionSettings apply_overrides(SessionSettings s, const json& overrides) {
    if (!overrides.is_object()) return s;
    for (auto& [key, v] : overrides.items()) {
        const auto* setting = find_setting(key);
        try {
            if (!setting || !setting->from(kRpc) || !setting->in_engine())
                throw BadSettingValue("is not a runtime setting");
            setting->set_json(s, v);
        } catch (const BadSettingValue&) {
            spdlog::warn("{}: ignoring {} = {}", kRuntimeSettingsFile, key, v.dump());
        }
    }
    return s;
}

std::vector<std::string> drop_overrides_changed_in_config(json& overrides,
                                                          const SessionSettings& old_base,
                                                          const SessionSettings& new_base) {
    std::vector<std::string> dropped;
    if (!overrides.is_object()) return dropped;
    auto changed = runtime_overrides(old_base, new_base);
    for (auto& [key, value] : changed.items()) {
        if (overrides.erase(key)) dropped.push_back(key);
    }
    return dropped;
}

std::optional<json> parse_runtime_overrides(std::string_view text) {
    auto j = rpc::parse_json_limited(text, kMaxSettingsDepth);
    if (!j || !j->is_object()) return std::nullopt;
    return j;
}

json load_runtime_overrides(const std::filesystem::path& state_dir) {
    auto file = state_dir / kRuntimeSettingsFile;
    try {
        if (auto j = parse_runtime_overrides(rpc::read_regular_file(file, kMaxSettingsBytes)))
            return *j;
        rpc::set_aside_corrupt(file, "not a JSON object of settings, or nested too deeply");
    } catch (const rpc::StateFileError& e) {
        using Kind = rpc::StateFileError::Kind;
        if (e.kind() == Kind::unreadable)
            spdlog::warn("cannot use {}; ignoring it", e.what());
        else if (e.kind() != Kind::missing)
            rpc::set_aside_corrupt(file, e.what());
    }
    return json::object();
}

void save_runtime_overrides(const std::filesystem::path& state_dir, const json& overrides) {
    write_file_atomic(state_dir / kRuntimeSettingsFile,
                      overrides.dump(1, ' ', false, json::error_handler_t::replace) + "\n", 0600);
}

}  // namespace btd::daemon
