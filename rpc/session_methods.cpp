// session.get, session.set, session.stats.
#include "rpc/session_methods.hpp"
#include "rpc/download_dir_policy.hpp"
#include "rpc/error_mapping.hpp"
#include "rpc/json_status.hpp"
#include "rpc/params.hpp"

namespace btd::rpc {

using nlohmann::json;

void register_settings_methods(Dispatcher& d, Session& s, const SessionMethodsOptions& options) {
    d.add("session.get", [&s](const json& params) {
        require_object(params);
        reject_unknown(params, {});
        return to_json(s.settings());
    });

    d.add("session.set", [&s, settings_changed = options.settings_changed,
                          allowed = options.allowed_download_dirs](const json& params) {
        require_object(params);
        reject_unknown(params, {"download_rate_limit", "upload_rate_limit", "max_peers_per_torrent",
                                "max_connections", "download_dir", "listen_port", "ratio_limit",
                                "seed_idle_limit"});
        constexpr std::int64_t max_rate = std::int64_t(1) << 40;
        constexpr std::int64_t max_idle = 10LL * 365 * 24 * 3600;  // as the daemon's config
        SessionSettings next = s.settings();
        if (auto v = optional_int(params, "download_rate_limit", 0, max_rate))
            next.download_rate_limit = *v;
        if (auto v = optional_int(params, "upload_rate_limit", 0, max_rate))
            next.upload_rate_limit = *v;
        if (auto v = optional_int(params, "max_peers_per_torrent", 1, 10000))
            next.max_peers_per_torrent = static_cast<int>(*v);
        if (auto v = optional_int(params, "max_connections", 1, 100000))
            next.max_connections = static_cast<int>(*v);
        if (auto v = optional_int(params, "listen_port", 0, 65535))
            next.listen_port = static_cast<std::uint16_t>(*v);
        if (auto v = optional_number(params, "ratio_limit", 0)) next.ratio_limit = *v;
        if (auto v = optional_int(params, "seed_idle_limit", 0, max_idle))
            next.seed_idle_limit = *v;
        if (auto v = optional_string(params, "download_dir"))
            next.default_download_dir = checked_download_dir(*v, allowed);
        return translate_errors([&] {
            s.apply_settings(next);
            if (settings_changed) settings_changed(s.settings());
            return to_json(s.settings());
        });
    });

    d.add("session.stats", [&s](const json& params) {
        require_object(params);
        reject_unknown(params, {});
        return to_json(s.stats());
    });
}

}  // namespace btd::rpc
