// torrent-start(-now), torrent-stop, torrent-verify, torrent-reannounce, torrent-remove,
// torrent-set, torrent-set-location, queue-move-*, and the Transmission methods btd answers with
// a clear refusal.
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <stdexcept>

#include "core/session/queue.hpp"
#include "rpc/methods/download_dir_policy.hpp"
#include "rpc/methods/error_mapping.hpp"
#include "rpc/transmission/arguments.hpp"
#include "rpc/transmission/file_choices.hpp"
#include "rpc/transmission/torrent_view.hpp"
#include "rpc/transmission/transmission_rpc.hpp"

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;
using Context = TransmissionRpc::Context;

std::vector<Sha1Hash> selected(Context& c, const json& args, std::string_view method) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    try {
        std::vector<Sha1Hash> out;
        for (const auto& t : select_torrents(args, c.session.list(), c.ids, now).torrents)
            out.push_back(t.id);
        return out;
    } catch (const std::invalid_argument& e) {
        throw MethodError(std::string(method) + ": " + e.what());
    }
}

void add_bulk(const SyncRegistrar& add, Context& c, const std::string& name,
              void (Session::*action)(const Sha1Hash&)) {
    add(name, [&c, name, action](const json& args) {
        reject_unsupported(args, name, {"ids"});
        auto ids = selected(c, args, name);
        return translate_errors([&] {
            for (const auto& id : ids) (c.session.*action)(id);
            return json::object();
        });
    });
}

// Replies once every selected torrent is gone, with its data deleted when asked.
void torrent_remove(Context& c, const json& args, TransmissionRpc::Done done) {
    reject_unsupported(args, "torrent-remove", {"ids", "delete-local-data"});
    bool delete_data = get_bool(args, "delete-local-data").value_or(false);
    auto ids = selected(c, args, "torrent-remove");
    auto pending = std::make_shared<std::size_t>(ids.size() + 1);
    auto finish_one = [pending, done] {
        if (--*pending == 0) done("success", json::object());
    };
    for (const auto& id : ids) c.session.remove(id, delete_data, finish_one);
    finish_one();
}

std::optional<std::int64_t> merged_speed(const json& args, const char* limit, const char* on) {
    auto enabled = get_bool(args, on);
    auto value = get_int(args, limit, 0, (std::int64_t(1) << 40) / kSpeedUnit);
    if (enabled == false) return 0;
    if (value) return *value * kSpeedUnit;
    if (enabled) throw MethodError(std::string("torrent-set: give ") + limit + " with " + on);
    return std::nullopt;
}

// Transmission's seed*Mode: 0 the session's limit (btd: drop the torrent's own, a negative value
// to merge_limits), 1 the torrent's own limit, 2 none (btd's own 0 wins over the session's).
constexpr int kModeSession = 0, kModeOwn = 1, kModeNone = 2;

// One seed limit of torrent-set: its mode and value arguments, both optional. Transmission keeps
// a torrent's own value while another mode is in use; btd keeps none, so a value alone applies
// only to a torrent on its own limit, and mode 1 alone takes the torrent's own value, else the
// session's. What btd cannot honour throws MethodError naming the arguments.
template <class T>
std::optional<T> seed_limit(std::optional<std::int64_t> mode, std::optional<T> value,
                            const std::optional<T>& own, T session, const std::string& value_name,
                            const std::string& mode_name) {
    if (mode == kModeNone) return T(0);
    if (mode == kModeSession) return T(-1);
    bool own_in_use = own && *own > 0;
    if (!mode) {
        if (!value || own_in_use) return value;
        throw MethodError("torrent-set: " + value_name + " alone would not apply: the torrent " +
                          "follows the session's limit or none; send " + mode_name + " " +
                          std::to_string(kModeOwn) + " with it");
    }
    if (value) return value;
    if (own_in_use) return own;
    if (session > 0) return session;
    throw MethodError("torrent-set: " + mode_name + " " + std::to_string(kModeOwn) + " needs " +
                      value_name + ": neither the torrent nor the session has such a limit");
}

// torrent-set's seed limit arguments, read (and range-checked) once for all torrents.
struct SeedArguments {
    std::optional<std::int64_t> ratio_mode, idle_mode;
    std::optional<double> ratio;
    std::optional<std::int64_t> idle_s;
    bool any() const { return ratio_mode || idle_mode || ratio || idle_s; }
};

SeedArguments read_seed_arguments(const json& args) {
    constexpr std::int64_t kMaxMinutes = 10LL * 365 * 24 * 60;  // btd's bound of ten years
    SeedArguments a;
    a.ratio_mode = get_int(args, "seedRatioMode", 0, 2);
    a.idle_mode = get_int(args, "seedIdleMode", 0, 2);
    a.ratio = get_number(args, "seedRatioLimit", 0);
    // seedIdleLimit is in minutes (Sonarr sends its seed time there, with seedIdleMode 1).
    if (auto minutes = get_int(args, "seedIdleLimit", 0, kMaxMinutes)) a.idle_s = *minutes * 60;
    return a;
}

// The seed limits one torrent gets; throws MethodError for what btd cannot honour.
TorrentLimits seed_limits(Context& c, const SeedArguments& a, const Sha1Hash& id) {
    TorrentLimits out;
    if (!a.any()) return out;
    const auto own = c.session.details(id).limits;
    const auto& session = c.session.settings();
    out.ratio_limit = seed_limit<double>(a.ratio_mode, a.ratio, own.ratio_limit,
                                         session.ratio_limit, "seedRatioLimit", "seedRatioMode");
    out.seed_idle_limit =
        seed_limit<std::int64_t>(a.idle_mode, a.idle_s, own.seed_idle_limit,
                                 session.seed_idle_limit, "seedIdleLimit", "seedIdleMode");
    return out;
}

// Every torrent's new priorities are worked out before anything changes; then each torrent
// gets them and the rest of the change (`apply`).
template <class Apply>
void apply_torrent_set(Context& c, const std::vector<Sha1Hash>& ids, const FileChoices& choices,
                       Apply apply) {
    std::vector<std::vector<int>> priorities;
    if (choices.any())
        for (const auto& id : ids)
            priorities.push_back(apply_file_choices(choices, c.session.file_priorities(id),
                                                    visible_file_indices(c.session.metainfo(id)),
                                                    "torrent-set"));
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (choices.any()) c.session.set_file_priorities(ids[i], priorities[i]);
        apply(ids[i]);
    }
}

json torrent_set(Context& c, const json& args) {
    reject_unsupported(args, "torrent-set",
                       {"ids", "downloadLimit", "downloadLimited", "uploadLimit", "uploadLimited",
                        "seedRatioLimit", "seedRatioMode", "seedIdleLimit", "seedIdleMode",
                        "files-wanted", "files-unwanted", "priority-high", "priority-low",
                        "priority-normal", "labels", "queuePosition", "location"});
    auto labels = get_labels(args, "torrent-set");
    TorrentLimits speeds;
    speeds.download_rate_limit = merged_speed(args, "downloadLimit", "downloadLimited");
    speeds.upload_rate_limit = merged_speed(args, "uploadLimit", "uploadLimited");
    auto seed = read_seed_arguments(args);
    auto choices = read_file_choices(args);
    auto queue_position = get_int(args, "queuePosition", 0, std::numeric_limits<int>::max());
    // The spec's "new location of the torrent's content": btd looks for the data there without
    // moving it, as torrent-set-location with move false does (transmission-daemon 3.00 and 4
    // leave the key unread).
    std::optional<std::filesystem::path> location;
    if (auto text = get_string(args, "location"))
        location = checked_download_dir(*text, c.options.allowed_download_dirs);
    auto ids = selected(c, args, "torrent-set");
    return translate_errors([&] {
        std::map<Sha1Hash, TorrentLimits> limits;
        for (const auto& id : ids) {
            auto& l = limits[id] = seed_limits(c, seed, id);
            l.download_rate_limit = speeds.download_rate_limit;
            l.upload_rate_limit = speeds.upload_rate_limit;
        }
        apply_torrent_set(c, ids, choices, [&](const Sha1Hash& id) {
            const auto& l = limits[id];
            if (l.download_rate_limit || l.upload_rate_limit || l.ratio_limit || l.seed_idle_limit)
                c.session.set_torrent_limits(id, l);
            if (labels) c.session.set_labels(id, *labels);
            if (queue_position) c.session.queue_set_position(id, *queue_position);
            if (location) c.session.set_location(id, *location, false);
        });
        return json::object();
    });
}

// Replies once the move has started; its end shows in downloadDir (as with Transmission, whose
// reply also comes before the files are moved).
json set_location(Context& c, const json& args) {
    reject_unsupported(args, "torrent-set-location", {"ids", "location", "move"});
    auto location = get_string(args, "location");
    if (!location) throw MethodError("torrent-set-location: give the new 'location'");
    auto dir = checked_download_dir(*location, c.options.allowed_download_dirs);
    bool move = get_bool(args, "move").value_or(false);
    auto ids = selected(c, args, "torrent-set-location");
    return translate_errors([&] {
        for (const auto& id : ids) c.session.set_location(id, dir, move);
        return json::object();
    });
}

void add_queue_move(const SyncRegistrar& add, Context& c, const std::string& name, QueueMove to) {
    add(name, [&c, name, to](const json& args) {
        reject_unsupported(args, name, {"ids"});
        auto ids = selected(c, args, name);
        return translate_errors([&] {
            c.session.queue_move(ids, to);
            return json::object();
        });
    });
}

void refuse(const SyncRegistrar& add, const std::string& name, const std::string& why) {
    add(name, [name, why](const json&) -> json { throw MethodError(name + ": " + why); });
}

}  // namespace

void register_torrent_add(const Registrar& add, Context& c);

void register_torrent_actions(const Registrar& add, const SyncRegistrar& add_sync, Context& c) {
    add_bulk(add_sync, c, "torrent-start", &Session::resume);
    add_bulk(add_sync, c, "torrent-start-now", &Session::start_now);
    add_bulk(add_sync, c, "torrent-stop", &Session::pause);
    add_bulk(add_sync, c, "torrent-verify", &Session::verify);
    add("torrent-remove", [&c](const json& args, TransmissionRpc::Done done) {
        torrent_remove(c, args, std::move(done));
    });
    add_sync("torrent-set", [&c](const json& args) { return torrent_set(c, args); });
    register_torrent_add(add, c);
    add_bulk(add_sync, c, "torrent-reannounce", &Session::reannounce);
    add_sync("torrent-set-location", [&c](const json& args) { return set_location(c, args); });
    refuse(add_sync, "torrent-rename-path", "not supported: btd does not rename files");
    add_queue_move(add_sync, c, "queue-move-top", QueueMove::top);
    add_queue_move(add_sync, c, "queue-move-up", QueueMove::up);
    add_queue_move(add_sync, c, "queue-move-down", QueueMove::down);
    add_queue_move(add_sync, c, "queue-move-bottom", QueueMove::bottom);
    refuse(add_sync, "blocklist-update", "not supported: btd has no blocklist");
    refuse(add_sync, "session-close", "not supported: stop btd with its service manager or btctl");
    refuse(add_sync, "group-get", "not supported: btd has no bandwidth groups");
    refuse(add_sync, "group-set", "not supported: btd has no bandwidth groups");
}

}  // namespace btd::rpc::transmission
