// torrent-get: the requested fields of the selected torrents, as objects or as a table.
#include <chrono>
#include <stdexcept>

#include "rpc/transmission/arguments.hpp"
#include "rpc/transmission/torrent_view.hpp"
#include "rpc/transmission/transmission_rpc.hpp"

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;
using Context = TransmissionRpc::Context;

std::vector<std::string> requested_fields(const json& args) {
    auto it = args.find("fields");
    if (it == args.end() || !it->is_array())
        throw MethodError("torrent-get: give \"fields\", the list of fields to return");
    std::vector<std::string> fields;
    for (const auto& f : *it)
        if (f.is_string() && torrent_fields().count(f.get<std::string>()))
            fields.push_back(f.get<std::string>());
    return fields;
}

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

json torrent_get(Context& c, const json& args) {
    reject_unsupported(args, "torrent-get", {"ids", "fields", "format"});
    auto fields = requested_fields(args);
    auto format = get_string(args, "format").value_or("objects");
    if (format != "objects" && format != "table")
        throw MethodError("torrent-get: format must be \"objects\" or \"table\"");
    auto all = c.session.list();
    Selection selection;
    try {
        selection = select_torrents(args, all, c.ids, now_unix());
    } catch (const std::invalid_argument& e) {
        throw MethodError(std::string("torrent-get: ") + e.what());
    }
    const auto& table = torrent_fields();
    json torrents = json::array();
    if (format == "table") torrents.push_back(fields);
    for (const auto& t : selection.torrents) {
        TorrentView view(c.session, t, c.ids.id_of(t.id), t.queue_position);
        json row = format == "table" ? json::array() : json::object();
        for (const auto& f : fields) {
            auto value = table.at(f)(view);
            if (format == "table")
                row.push_back(std::move(value));
            else
                row[f] = std::move(value);
        }
        torrents.push_back(std::move(row));
    }
    json out = {{"torrents", std::move(torrents)}};
    if (selection.recently_active)
        out["removed"] = c.ids.removed_since(Clock::now() - kRecentlyActive);
    return out;
}

}  // namespace

void register_torrent_get(const SyncRegistrar& add, Context& c) {
    add("torrent-get", [&c](const json& args) { return torrent_get(c, args); });
}

}  // namespace btd::rpc::transmission
