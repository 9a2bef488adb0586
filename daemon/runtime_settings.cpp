#include "daemon/runtime_settings.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

#include "daemon/atomic_file.hpp"
#include "daemon/config.hpp"
#include "rpc/json_parse.hpp"
#include "rpc/safe_file.hpp"

namespace btd::daemon {

using nlohmann::json;

namespace {

// The runtime-settable keys as JSON, read from settings.
json settable(const SessionSettings& s) {
    return {{"download_dir", s.default_download_dir.string()},
            {"listen_port", s.listen_port},
            {"download_rate_limit", s.download_rate_limit},
            {"upload_rate_limit", s.upload_rate_limit},
            {"max_peers_per_torrent", s.max_peers_per_torrent},
            {"max_connections", s.max_connections},
            {"ratio_limit", s.ratio_limit},
            {"seed_idle_limit", s.seed_idle_limit}};
}

constexpr std::size_t kMaxSettingsBytes = 1024 * 1024;
constexpr std::size_t kMaxSettingsDepth = 8;  // the file is one flat object

bool int_in(const json& v, std::int64_t min, std::int64_t max) {
    return v.is_number_integer() && v.get<std::int64_t>() >= min && v.get<std::int64_t>() <= max;
}

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
    constexpr std::int64_t max_rate = std::int64_t(1) << 40;
    for (auto& [key, v] : overrides.items()) {
        bool ok = true;
        if (key == "download_dir" && v.is_string() && !v.get<std::string>().empty())
            s.default_download_dir = v.get<std::string>();
        else if (key == "listen_port" && int_in(v, 0, 65535))
            s.listen_port = static_cast<std::uint16_t>(v.get<int>());
        else if (key == "download_rate_limit" && int_in(v, 0, max_rate))
            s.download_rate_limit = v.get<std::int64_t>();
        else if (key == "upload_rate_limit" && int_in(v, 0, max_rate))
            s.upload_rate_limit = v.get<std::int64_t>();
        else if (key == "max_peers_per_torrent" && int_in(v, 1, 10000))
            s.max_peers_per_torrent = v.get<int>();
        else if (key == "max_connections" && int_in(v, 1, 100000))
            s.max_connections = v.get<int>();
        else if (key == "ratio_limit" && v.is_number() && std::isfinite(v.get<double>()) &&
                 v.get<double>() >= 0)
            s.ratio_limit = v.get<double>();
        else if (key == "seed_idle_limit" && int_in(v, 0, kMaxSeedIdleLimit))
            s.seed_idle_limit = v.get<std::int64_t>();
        else
            ok = false;
        if (!ok) spdlog::warn("{}: ignoring {} = {}", kRuntimeSettingsFile, key, v.dump());
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
