// torrent.start_now, torrent.queue_move, torrent.reannounce, torrent.set_location: the download
// queue, manual announces and moving data (rpc/README.md).
#include "core/session/queue.hpp"
#include "rpc/methods/download_dir_policy.hpp"
#include "rpc/methods/error_mapping.hpp"
#include "rpc/methods/session_methods.hpp"
#include "rpc/transport/params.hpp"

namespace btd::rpc {
namespace {

using nlohmann::json;

json queue_move(Session& s, const json& params) {
    require_object(params);
    reject_unknown(params, {"ids", "to"});
    auto to = queue::parse_move(required_string(params, "to"));
    if (!to) throw invalid_params("to must be one of: top, up, down, bottom");
    return translate_errors([&] {
        s.queue_move(parse_torrent_ids(params, s, false), *to);
        return json::object();
    });
}

// Replies once every move has started (peers paused, the disk work queued): a move can take
// longer than any RPC call may. Its end shows in download_dir, a failure in the torrent's error.
json set_location(Session& s, const json& params,
                  const std::vector<std::filesystem::path>& allowed) {
    require_object(params);
    reject_unknown(params, {"ids", "location", "move"});
    auto dir = checked_download_dir(required_string(params, "location"), allowed);
    bool move = optional_bool(params, "move").value_or(false);
    return translate_errors([&] {
        for (const auto& id : parse_torrent_ids(params, s, false)) s.set_location(id, dir, move);
        return json::object();
    });
}

}  // namespace

void register_queue_methods(Dispatcher& d, Session& s, const SessionMethodsOptions& options) {
    d.add("torrent.queue_move", [&s](const json& params) { return queue_move(s, params); });
    d.add("torrent.set_location", [&s, allowed = options.allowed_download_dirs](const json& p) {
        return set_location(s, p, allowed);
    });
}

}  // namespace btd::rpc
