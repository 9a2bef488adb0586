// session.get, session.set, session.stats.
#include "rpc/methods/session_methods.hpp"
#include "rpc/methods/download_dir_policy.hpp"
#include "rpc/methods/error_mapping.hpp"
#include "rpc/methods/free_space.hpp"
#include "rpc/methods/json_status.hpp"
#include "rpc/transport/errors.hpp"
#include "rpc/transport/params.hpp"

namespace btd::rpc {

using nlohmann::json;

namespace {

// The engine's settings (listen_address, memory_budget, ... for information) and every setting
// of the schema by its name.
json settings_json(Session& s, const SettingsSchema& schema) {
    auto out = to_json(s.settings());
    if (schema.values) out.update(schema.values(s.settings()));
    return out;
}

json totals_json(const SessionTotals& t) {
    return {{"uploaded", t.uploaded},
            {"downloaded", t.downloaded},
            {"torrents_added", t.files_added},
            {"session_count", t.session_count},
            {"seconds_active", t.seconds_active}};
}

// The session's numbers, this run's and all-time totals, and the download dir's free space
// (measured on the disk pool: a hung mount must not stop the network thread).
void session_stats(Session& s, const SessionTotalsSource& totals, Dispatcher::Completion done) {
    auto out = to_json(s.stats());
    if (totals) {
        auto t = totals();
        out["current"] = totals_json(t.current);
        out["cumulative"] = totals_json(t.cumulative);
    }
    auto dir = s.settings().default_download_dir;
    measure_free_space(s, dir, [out = std::move(out), done = std::move(done)](FreeSpace f) mutable {
        out["download_dir_free"] = f.available;
        done(std::move(out));
    });
}

}  // namespace

void register_settings_methods(Dispatcher& d, Session& s, const SessionMethodsOptions& options) {
    d.add("session.get", [&s, schema = options.settings](const json& params) {
        require_object(params);
        reject_unknown(params, {});
        return settings_json(s, schema);
    });

    d.add("session.set",
          [&s, schema = options.settings, settings_changed = options.settings_changed,
           allowed = options.allowed_download_dirs](const json& params) {
              require_object(params);
              if (!schema.apply)
                  throw RpcError(errc::not_supported, "session.set is not available");
              SessionSettings next;
              try {
                  next = schema.apply(params, s.settings());
              } catch (const std::invalid_argument& e) {
                  throw invalid_params(e.what());
              }
              if (auto v = optional_string(params, "download_dir"))
                  next.default_download_dir = checked_download_dir(*v, allowed);
              return translate_errors([&] {
                  s.apply_settings(next);
                  if (settings_changed) settings_changed(s.settings());
                  return settings_json(s, schema);
              });
          });

    d.add_async("session.stats",
                [&s, totals = options.totals](const json& params, Dispatcher::Completion done) {
                    require_object(params);
                    reject_unknown(params, {});
                    session_stats(s, totals, std::move(done));
                });
}

}  // namespace btd::rpc
