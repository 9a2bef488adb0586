// torrent-add: `filename` (a path on the daemon's disk, a magnet link or an http(s) URL) or base64
// `metainfo`;
// replies torrent-added or torrent-duplicate with id, name and hashString.
#include "core/metainfo/magnet.hpp"
#include "core/metainfo/metainfo.hpp"
#include "core/util/ascii.hpp"
#include "rpc/methods/download_dir_policy.hpp"
#include "rpc/methods/error_mapping.hpp"
#include "rpc/transmission/arguments.hpp"
#include "rpc/transmission/file_choices.hpp"
#include "rpc/transmission/torrent_view.hpp"
#include "rpc/transmission/transmission_rpc.hpp"
#include "rpc/transport/base64.hpp"

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;
using Context = TransmissionRpc::Context;

struct AddRequest {
    AddTorrentParams params;
    FileChoices files;
};

AddRequest read_add_request(const json& args, const TransmissionOptions& options) {
    reject_unsupported(
        args, "torrent-add",
        {"filename", "metainfo", "download-dir", "paused", "files-wanted", "files-unwanted",
         "priority-high", "priority-low", "priority-normal", "labels"});
    AddRequest r;
    r.params.labels = get_labels(args, "torrent-add").value_or(std::vector<std::string>{});
    if (auto dir = get_string(args, "download-dir"))
        r.params.download_dir = checked_download_dir(*dir, options.allowed_download_dirs);
    r.params.paused = get_bool(args, "paused").value_or(false);
    r.files = read_file_choices(args);
    return r;
}

json add_to_session(Context& c, Metainfo meta, AddRequest request) {
    if (request.files.any())
        request.params.file_priorities =
            apply_file_choices(request.files, std::vector<int>(meta.files.size(), 4),
                               visible_file_indices(meta), "torrent-add");
    auto hash = meta.info_hash;
    std::string key = "torrent-added";
    json reply = translate_errors([&]() -> json {
        try {
            if (c.session.add_torrent(std::move(meta), std::move(request.params)).duplicate)
                key = "torrent-duplicate";
        } catch (const SessionError& e) {
            if (e.code() != SessionError::Code::duplicate_torrent) throw;
            key = "torrent-duplicate";
        }
        return json::object();
    });
    c.ids.sync(c.session, Clock::now());
    const auto& added = c.session.metainfo(hash);
    return {{key, {{"id", c.ids.id_of(hash)}, {"name", added.name}, {"hashString", to_hex(hash)}}}};
}

// A magnet's files are unknown until its metadata arrives: files-wanted & co. cannot apply.
json add_magnet_to_session(Context& c, const std::string& uri, AddRequest request) {
    if (request.files.any())
        throw MethodError(
            "torrent-add: files-wanted and priorities need the .torrent; a magnet "
            "link's files are not known yet (set them once it shows its files)");
    auto link = parse_magnet(uri);
    auto hash = link.info_hash;
    auto result = c.session.add_magnet(std::move(link), std::move(request.params));
    c.ids.sync(c.session, Clock::now());
    std::string key = result.duplicate ? "torrent-duplicate" : "torrent-added";
    return {
        {key, {{"id", c.ids.id_of(hash)}, {"name", result.name}, {"hashString", to_hex(hash)}}}};
}

// Replies to a new job once its add parameters are durable (as torrent.add does); errors and
// duplicates reply at once.
TransmissionRpc::Done reply_when_stored(TransmissionRpc::Done done,
                                        const std::function<void(std::function<void()>)>& hook) {
    if (!hook) return done;
    return [done = std::move(done), hook](std::string result, json reply) {
        if (result != "success" || !reply.contains("torrent-added"))
            return done(std::move(result), std::move(reply));
        hook([done, reply = std::move(reply)] { done("success", reply); });
    };
}

// Runs later on the io_context: reports, never throws.
void add_fetched(Context& c, AddRequest request, const std::string& url, std::string error,
                 std::string body, TransmissionRpc::Done done) {
    if (!error.empty()) return done("torrent-add: cannot download " + url + ": " + error, nullptr);
    try {
        done("success", add_to_session(c, parse_metainfo(body), std::move(request)));
    } catch (const std::exception& e) {
        done(e.what(), nullptr);
    }
}

void torrent_add(Context& c, const json& args, TransmissionRpc::Done done) {
    auto request = read_add_request(args, c.options);
    done = reply_when_stored(std::move(done), c.options.job_added);
    auto filename = get_string(args, "filename");
    auto metainfo = get_string(args, "metainfo");
    if (bool(filename) == bool(metainfo))
        throw MethodError("torrent-add: give exactly one of filename or metainfo");
    if (metainfo) {
        auto bytes = base64_decode(*metainfo);
        if (!bytes) throw MethodError("torrent-add: metainfo is not valid base64");
        json reply =
            translate_errors([&] { return add_to_session(c, parse_metainfo(*bytes), request); });
        return done("success", std::move(reply));
    }
    if (is_magnet_uri(*filename)) {
        json reply = translate_errors([&] { return add_magnet_to_session(c, *filename, request); });
        return done("success", std::move(reply));
    }
    if (starts_with_ci(*filename, "http://") || starts_with_ci(*filename, "https://")) {
        fetch_url(
            c.io, *c.tls, *filename, c.options.fetch,
            [&c, request, url = *filename, done, tls = c.tls](std::string error, std::string body) {
                add_fetched(c, request, url, std::move(error), std::move(body), done);
            });
        return;
    }
    json reply =
        translate_errors([&] { return add_to_session(c, load_metainfo_file(*filename), request); });
    done("success", std::move(reply));
}

}  // namespace

void register_torrent_add(const Registrar& add, Context& c) {
    add("torrent-add", [&c](const json& args, TransmissionRpc::Done done) {
        torrent_add(c, args, std::move(done));
    });
}

}  // namespace btd::rpc::transmission
