// session.get, session.set, session.stats.
#include "rpc/session_methods.hpp"
#include "rpc/download_dir_policy.hpp"
#include "rpc/error_mapping.hpp"
#include "rpc/errors.hpp"
#include "rpc/json_status.hpp"
#include "rpc/params.hpp"

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

    d.add("session.stats", [&s](const json& params) {
        require_object(params);
        reject_unknown(params, {});
        return to_json(s.stats());
    });
}

}  // namespace btd::rpc
