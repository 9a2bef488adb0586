// torrent.list, torrent.get, torrent.pause/resume/verify, torrent.remove, torrent.set.
#include <algorithm>
#include <charconv>

#include "core/session/labels.hpp"
#include "rpc/methods/error_mapping.hpp"
#include "rpc/methods/file_priorities.hpp"
#include "rpc/methods/json_status.hpp"
#include "rpc/methods/session_methods.hpp"
#include "rpc/transport/params.hpp"

namespace btd::rpc {
namespace {

using nlohmann::json;

// The members a torrent.list asks for; all of them without `fields`.
SummaryFields parse_fields(const json& params) {
    auto it = params.find("fields");
    if (it == params.end() || it->is_null()) return all_summary_fields();
    auto bad = [&]() {
        std::string list;
        for (const auto& k : summary_fields()) list += (list.empty() ? "" : ", ") + k;
        return invalid_params("fields must be an array of: " + list);
    };
    if (!it->is_array()) throw bad();
    SummaryFields fields = 0;
    for (const auto& f : *it) {
        auto bit = f.is_string() ? summary_field_bit(f.get_ref<const std::string&>()) : 0;
        if (!bit) throw bad();
        fields |= bit;
    }
    return fields;
}

// The `since` token of torrent.list: a decimal sequence number in a string ("" = none yet).
std::uint64_t parse_since(const json& value) {
    if (!value.is_string())
        throw invalid_params("since must be a string: a token from torrent.list");
    const auto& text = value.get_ref<const std::string&>();
    std::uint64_t since = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), since);
    if (!text.empty() && (ec != std::errc() || end != text.data() + text.size()))
        throw invalid_params("since is not a token from torrent.list: '" + text + "'");
    return since;
}

// torrent.get: the details (json_status.cpp) plus what that shared serialiser does not write.
json details_json(const TorrentDetails& d) {
    json out = to_json(d);
    const auto& idle = d.limits.seed_idle_limit;
    out["limits"]["seed_idle_limit"] = idle ? json(*idle) : json(nullptr);  // null: the session's
    out["seconds_downloading"] = d.status.seconds_downloading;
    out["seconds_seeding"] = d.status.seconds_seeding;
    return out;
}

void append_summaries(std::string& out, const std::vector<TorrentStatus>& statuses,
                      SummaryFields fields) {
    out += '[';
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        if (i) out += ',';
        append_summary(out, statuses[i], fields);
    }
    out += ']';
}

// {"complete":..,"removed":[ids],"token":"..","torrents":[..]} (members by name, as dumped).
std::string changes_text(const StatusChanges& changes, SummaryFields fields) {
    std::string out = "{\"complete\":";
    out += changes.complete ? "true" : "false";
    out += ",\"removed\":[";
    for (std::size_t i = 0; i < changes.removed.size(); ++i) {
        if (i) out += ',';
        out += '"' + to_hex(changes.removed[i]) + '"';
    }
    out += "],\"token\":\"" + std::to_string(changes.sequence) + "\",\"torrents\":";
    append_summaries(out, changes.changed, fields);
    out += '}';
    return out;
}

void add_bulk_action(Dispatcher& d, Session& s, const std::string& name,
                     void (Session::*action)(const Sha1Hash&)) {
    d.add(name, [&s, action](const json& params) {
        require_object(params);
        reject_unknown(params, {"ids", "all"});
        return translate_errors([&] {
            for (const auto& id : parse_torrent_ids(params, s, true)) (s.*action)(id);
            return json::object();
        });
    });
}

}  // namespace

void register_torrent_methods(Dispatcher& d, Session& s) {
    // Written straight into the reply text: only the asked members are formatted, and no
    // JSON tree is built (see rpc/README.md).
    d.add_async("torrent.list", [&s](const json& params, Dispatcher::Completion done) {
        require_object(params);
        reject_unknown(params, {"fields", "since"});
        auto fields = parse_fields(params);
        auto since = params.find("since");
        if (since != params.end())
            return done(RawJson{changes_text(s.changes_since(parse_since(*since)), fields)});
        std::string out = "[";
        out.reserve(s.torrent_count() * 64);
        s.for_each_status([&out, fields](const TorrentStatus& status) {
            if (out.size() > 1) out += ',';
            append_summary(out, status, fields);
        });
        out += ']';
        done(RawJson{std::move(out)});
    });

    d.add("torrent.get", [&s](const json& params) {
        require_object(params);
        reject_unknown(params, {"id"});
        if (!params.contains("id")) throw invalid_params("missing param 'id'");
        auto id = parse_torrent_id(params["id"]);
        return translate_errors([&] { return details_json(s.details(id)); });
    });

    add_bulk_action(d, s, "torrent.pause", &Session::pause);
    add_bulk_action(d, s, "torrent.resume", &Session::resume);
    add_bulk_action(d, s, "torrent.verify", &Session::verify);
    add_bulk_action(d, s, "torrent.start_now", &Session::start_now);
    add_bulk_action(d, s, "torrent.reannounce", &Session::reannounce);

    // Answers only once every job's disk work is over and, with delete_data, its files are
    // gone: a client that adds the torrent again right after must not race the deletion.
    d.add_async("torrent.remove", [&s](const json& params, Dispatcher::Completion done) {
        require_object(params);
        reject_unknown(params, {"ids", "delete_data"});
        bool delete_data = optional_bool(params, "delete_data").value_or(false);
        std::vector<Sha1Hash> ids;
        translate_errors([&] {
            ids = parse_torrent_ids(params, s, false);
            return json();
        });
        auto pending = std::make_shared<std::size_t>(ids.size() + 1);
        auto one_done = [pending, done] {
            if (--*pending == 0) done(json::object());
        };
        for (const auto& id : ids) s.remove(id, delete_data, one_done);
        one_done();
    });

    d.add("torrent.set", [&s](const json& params) {
        require_object(params);
        reject_unknown(params,
                       {"ids", "all", "download_rate_limit", "upload_rate_limit", "ratio_limit",
                        "seed_idle_limit", "file_priorities", "sequential", "labels"});
        constexpr std::int64_t kMaxRate = std::int64_t(1) << 40;
        constexpr std::int64_t kMaxIdleLimit = 10LL * 365 * 24 * 3600;  // as the session's
        TorrentLimits limits;
        limits.download_rate_limit = optional_int(params, "download_rate_limit", 0, kMaxRate);
        limits.upload_rate_limit = optional_int(params, "upload_rate_limit", 0, kMaxRate);
        limits.ratio_limit = optional_number(params, "ratio_limit", 0);
        limits.seed_idle_limit = optional_int(params, "seed_idle_limit", 0, kMaxIdleLimit);
        auto sequential = optional_bool(params, "sequential");
        auto labels = optional_string_list(params, "labels");
        const json* priorities =
            params.contains("file_priorities") ? &params["file_priorities"] : nullptr;
        if (priorities) check_file_priorities_shape(*priorities, true);
        bool set_limits = limits.download_rate_limit || limits.upload_rate_limit ||
                          limits.ratio_limit || limits.seed_idle_limit;
        if (!set_limits && !sequential && !priorities && !labels)
            throw invalid_params(
                "nothing to set: give download_rate_limit, upload_rate_limit, ratio_limit, "
                "seed_idle_limit, file_priorities, sequential or labels");
        return translate_errors([&] {
            auto ids = parse_torrent_ids(params, s, true);
            // Every torrent's new priorities are worked out before anything changes.
            if (labels) *labels = checked_labels(*labels);
            std::vector<std::vector<int>> new_priorities;
            if (priorities)
                for (const auto& id : ids)
                    new_priorities.push_back(
                        resolve_file_priorities(*priorities, s.file_priorities(id)));
            for (std::size_t i = 0; i < ids.size(); ++i) {
                if (set_limits) s.set_torrent_limits(ids[i], limits);
                if (sequential) s.set_sequential(ids[i], *sequential);
                if (priorities) s.set_file_priorities(ids[i], new_priorities[i]);
                if (labels) s.set_labels(ids[i], *labels);
            }
            return json::object();
        });
    });
}

void register_session_methods(Dispatcher& d, Session& s, boost::asio::io_context& io,
                              SessionMethodsOptions options) {
    register_torrent_methods(d, s);
    register_torrent_add(d, s, io, options);
    register_queue_methods(d, s, options);
    register_settings_methods(d, s, options);
    register_daemon_methods(d, io, std::move(options.shutdown));
}

}  // namespace btd::rpc
