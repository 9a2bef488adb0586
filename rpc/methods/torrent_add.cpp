// torrent.add: from a path on the daemon's disk (a .torrent or a .magnet text file), base64
// metainfo, a magnet link, or an http(s) URL. Nothing
// blocks the network thread: the URL is fetched asynchronously, and the file read and the
// download directory's creation run on the disk pool (Session::add_torrent_file/add_torrent).
#include <algorithm>
#include <cctype>

#include "core/metainfo/magnet.hpp"
#include "core/metainfo/metainfo.hpp"
#include "core/session/labels.hpp"
#include "core/util/ascii.hpp"
#include "rpc/methods/download_dir_policy.hpp"
#include "rpc/methods/error_mapping.hpp"
#include "rpc/methods/file_priorities.hpp"
#include "rpc/methods/session_methods.hpp"
#include "rpc/transport/base64.hpp"
#include "rpc/transport/params.hpp"

namespace btd::rpc {
namespace {

using nlohmann::json;

// The reply to an add: the job's id and name, or the error the engine's add raised, mapped to
// its RPC code. Never throws: it runs later on the io_context.
Outcome add_reply(const Session::AddOutcome& outcome) {
    try {
        return translate_errors([&] {
            if (auto* error = std::get_if<std::exception_ptr>(&outcome))
                std::rethrow_exception(*error);
            const auto& result = std::get<AddResult>(outcome);
            return json{
                {"id", to_hex(result.id)}, {"name", result.name}, {"duplicate", result.duplicate}};
        });
    } catch (const RpcError& e) {
        return e;
    } catch (const std::exception& e) {
        return RpcError(errc::internal_error, std::string("internal error: ") + e.what());
    }
}

// Adds without waiting for the disk: creating the download directory (and reading the file,
// for add_torrent_file) runs on the disk pool; `done` gets the reply afterwards.
Session::AddDone reply_with(Dispatcher::Completion done) {
    return [done = std::move(done)](Session::AddOutcome outcome) { done(add_reply(outcome)); };
}

// Replies once a new job's add parameters are durable (when the daemon asked to be told);
// errors, duplicates and callers without the hook reply at once.
Dispatcher::Completion reply_when_stored(Dispatcher::Completion done,
                                         const std::function<void(std::function<void()>)>& hook) {
    if (!hook) return done;
    return [done = std::move(done), hook](Outcome outcome) {
        const auto* result = std::get_if<json>(&outcome);
        if (!result || result->value("duplicate", true)) return done(std::move(outcome));
        hook([done, outcome = std::move(outcome)]() mutable { done(std::move(outcome)); });
    };
}

}  // namespace

void register_torrent_add(Dispatcher& d, Session& s, boost::asio::io_context& io,
                          const SessionMethodsOptions& options) {
    auto tls = make_client_tls_context();
    d.add_async("torrent.add", [&s, &io, fetch = options.fetch, tls, hook = options.job_added,
                                allowed = options.allowed_download_dirs](
                                   const json& params, Dispatcher::Completion reply) {
        require_object(params);
        reject_unknown(params, {"path", "metainfo", "uri", "download_dir", "paused",
                                "file_priorities", "sequential", "labels"});
        auto path = optional_string(params, "path");
        auto metainfo = optional_string(params, "metainfo");
        auto uri = optional_string(params, "uri");
        if (int(bool(path)) + int(bool(metainfo)) + int(bool(uri)) != 1)
            throw invalid_params("give exactly one of path, metainfo (base64) or uri");

        AddTorrentParams add;
        if (auto dir = optional_string(params, "download_dir"))
            add.download_dir = checked_download_dir(*dir, allowed);
        add.paused = optional_bool(params, "paused").value_or(false);
        add.sequential = optional_bool(params, "sequential").value_or(false);
        add.labels = optional_string_list(params, "labels").value_or(std::vector<std::string>{});
        translate_errors([&] {  // checked before anything is fetched
            add.labels = checked_labels(add.labels);
            return json();
        });
        if (params.contains("file_priorities")) {
            const auto& value = params["file_priorities"];
            check_file_priorities_shape(value, false);
            // The file count is known only once the .torrent is read: the engine checks it.
            add.file_priorities = resolve_file_priorities(value, std::vector<int>(value.size()));
        }
        auto done = reply_when_stored(std::move(reply), hook);

        if (path) return s.add_torrent_file(*path, add, reply_with(done));
        if (metainfo) {
            auto bytes = base64_decode(*metainfo);
            if (!bytes) throw invalid_params("metainfo is not valid base64");
            Metainfo meta;
            translate_errors([&] {
                meta = parse_metainfo(*bytes);
                return json();
            });
            return s.add_torrent(std::move(meta), add, reply_with(done));
        }
        if (is_magnet_uri(*uri)) {
            MagnetLink link;
            translate_errors([&] {  // MetainfoError: invalid params naming the problem
                link = parse_magnet(*uri);
                return json();
            });
            return s.add_magnet(std::move(link), add, reply_with(done));
        }
        if (!starts_with_ci(*uri, "http://") && !starts_with_ci(*uri, "https://"))
            throw invalid_params("uri must be a magnet link or an http(s) URL of a .torrent");

        fetch_url(
            io, *tls, *uri, fetch,
            [&s, add, done, url = *uri, tls](std::string error, std::string body) {
                if (!error.empty()) {
                    done(RpcError(errc::fetch_failed, "cannot download " + url + ": " + error));
                    return;
                }
                // This runs later on the io_context: report, never throw.
                Metainfo meta;
                try {
                    meta = parse_metainfo(body);
                } catch (...) {
                    return done(add_reply(std::current_exception()));
                }
                s.add_torrent(std::move(meta), add, reply_with(done));
            });
    });
}

}  // namespace btd::rpc
