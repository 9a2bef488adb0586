#include "cli-remote/commands.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli-remote/cli_error.hpp"
#include "cli-remote/event_watch.hpp"
#include "cli-remote/format.hpp"
#include "cli-remote/id_prefix.hpp"
#include "cli-remote/rpc_client.hpp"
#include "core/util/ascii.hpp"
#include "rpc/transport/base64.hpp"
#include "rpc/transport/json_parse.hpp"

namespace btd::btctl {
namespace {

using nlohmann::json;

constexpr std::uintmax_t kMaxTorrentFileBytes = 10 * 1024 * 1024;

void print_json(std::ostream& out, const json& value) {
    out << rpc::dump_json(value, 2) << "\n";
}

bool is_uri(const std::string& arg) {
    return starts_with_ci(arg, "magnet:") || starts_with_ci(arg, "http://") ||
           starts_with_ci(arg, "https://");
}

// Read here and sent as base64, so it works even when the daemon cannot read the file.
std::string read_torrent_file(const std::string& path) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) throw CliError(exit_code::failure, "cannot read " + path + ": " + ec.message());
    if (size > kMaxTorrentFileBytes)
        throw CliError(exit_code::failure, path + " is too large for a .torrent file");
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw CliError(exit_code::failure, "cannot read " + path);
    return bytes;
}

bool is_magnet_file(const std::string& path) {
    auto ext = std::filesystem::path(path).extension().string();
    return ext.size() == 7 && starts_with_ci(ext, ".magnet");
}

// A .magnet file holds one magnet link; blanks and line ends around it are dropped.
std::string read_magnet_file(const std::string& path) {
    constexpr std::uintmax_t kMaxMagnetFileBytes = 128 * 1024;
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) throw CliError(exit_code::failure, "cannot read " + path + ": " + ec.message());
    if (size > kMaxMagnetFileBytes)
        throw CliError(exit_code::failure, path + " is too large for a .magnet file");
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto begin = text.find_first_not_of(" \t\r\n");
    auto end = text.find_last_not_of(" \t\r\n");
    if (begin == std::string::npos || !starts_with_ci(text.substr(begin), "magnet:"))
        throw CliError(exit_code::failure, path + " does not hold a magnet link");
    return text.substr(begin, end - begin + 1);
}

std::vector<std::string> resolve_ids(const RpcCall& call,
                                     const std::vector<std::string>& prefixes) {
    auto list = call("torrent.list", {{"fields", {"name"}}});
    std::vector<KnownTorrent> known;
    if (list.is_array())
        for (const auto& t : list)
            known.push_back({t.value("id", std::string()), t.value("name", std::string())});
    return resolve_id_prefixes(prefixes, known);
}

// {"ids": [...]} or {"all": true}
json target_params(const CliOptions& o, const RpcCall& call) {
    if (o.all) return {{"all", true}};
    return {{"ids", resolve_ids(call, o.args)}};
}

void add(const CliOptions& o, const RpcCall& call, std::ostream& out) {
    json results = json::array();
    for (const auto& arg : o.args) {
        json params = {{"paused", o.paused}};
        if (o.dir) params["download_dir"] = std::filesystem::absolute(*o.dir).string();
        if (!o.labels.empty()) params["labels"] = o.labels;
        if (is_uri(arg))
            params["uri"] = arg;
        else if (is_magnet_file(arg))  // read here, like a .torrent: the daemon may not see it
            params["uri"] = read_magnet_file(arg);
        else
            params["metainfo"] = rpc::base64_encode(read_torrent_file(arg));
        auto r = call("torrent.add", params);
        if (o.json) {
            results.push_back(r);
            continue;
        }
        auto name = r.value("name", std::string());
        auto id = r.value("id", std::string());
        if (r.value("duplicate", false))
            out << "already added: " << name << " (" << id << ")\n";
        else
            out << "added: " << name << " (" << id << ")\n";
    }
    if (o.json) print_json(out, o.args.size() == 1 ? results[0] : results);
}

void simple_action(const CliOptions& o, const RpcCall& call, std::ostream& out,
                   const std::string& method, json params, const char* done_word) {
    auto r = call(method, params);
    if (o.json) return print_json(out, r);
    if (params.contains("all")) {
        out << done_word << " all torrents\n";
    } else {
        auto n = params["ids"].size();
        out << done_word << " " << n << (n == 1 ? " torrent\n" : " torrents\n");
    }
}

void token_command(const CliOptions& o, const RpcCall& call, std::ostream& out) {
    const auto& action = o.args.front();
    if (action == "create") {
        auto r = call("token.create", {{"name", o.args[1]}, {"read_only", o.read_only}});
        if (o.json) return print_json(out, r);
        out << "token " << r.value("name", std::string()) << " (" << r.value("scope", std::string())
            << "): " << r.value("token", std::string())
            << "\nbtd keeps only its hash: store it now (e.g. in the dashboard's settings).\n";
        return;
    }
    if (action == "revoke") {
        auto r = call("token.revoke", {{"name", o.args[1]}});
        return o.json ? print_json(out, r) : void(out << "revoked " << o.args[1] << "\n");
    }
    auto r = call("token.list", json::object());
    if (o.json) return print_json(out, r);
    if (r.empty()) out << "no tokens (create one with `btctl token create NAME`)\n";
    for (const auto& t : r)
        out << t.value("name", std::string()) << "  " << t.value("scope", std::string()) << "\n";
}

// A value from the command line: JSON if it parses as a number or true/false, else text (so
// "2M" and paths stay strings; session.set reads rates from text too).
json setting_value(const std::string& text) {
    auto j = json::parse(text, nullptr, false);
    if (!j.is_discarded() && (j.is_number() || j.is_boolean())) return j;
    return text;
}

std::string setting_text(const json& value) {
    return value.is_string() ? value.get<std::string>() : value.dump();
}

void session_command(const CliOptions& o, const RpcCall& call, std::ostream& out) {
    const auto& a = o.args;
    if (a.front() == "set") {
        auto r = call("session.set", {{a[1], setting_value(a[2])}});
        if (o.json) return print_json(out, r);
        out << a[1] << " = " << (r.contains(a[1]) ? setting_text(r[a[1]]) : a[2]) << "\n";
        return;
    }
    auto r = call("session.get", json::object());
    if (a.size() == 2) {
        if (!r.contains(a[1])) {
            std::string known;
            for (const auto& [key, value] : r.items()) known += (known.empty() ? "" : ", ") + key;
            throw usage_error("unknown setting '" + a[1] + "' (btd has: " + known + ")");
        }
        return o.json ? print_json(out, r[a[1]]) : void(out << setting_text(r[a[1]]) << "\n");
    }
    if (o.json) return print_json(out, r);
    for (const auto& [key, value] : r.items()) out << key << " = " << setting_text(value) << "\n";
}

// `btctl list --label`: the torrents with one of `labels` (all when none are given).
json with_any_label(json torrents, const std::vector<std::string>& labels) {
    if (labels.empty() || !torrents.is_array()) return torrents;
    json out = json::array();
    for (auto& t : torrents) {
        auto it = t.find("labels");
        if (it == t.end() || !it->is_array()) continue;
        if (std::any_of(it->begin(), it->end(), [&](const json& l) {
                return l.is_string() && std::find(labels.begin(), labels.end(),
                                                  l.get<std::string>()) != labels.end();
            }))
            out.push_back(std::move(t));
    }
    return out;
}

}  // namespace

void run_command(const CliOptions& o, const RpcCall& call, std::ostream& out) {
    const auto& c = o.command;
    if (c == "add") return add(o, call, out);
    if (c == "list") {
        auto r = with_any_label(call("torrent.list", json::object()), o.labels);
        return o.json ? print_json(out, r) : void(out << format_torrent_list(r));
    }
    if (c == "info") {
        auto id = resolve_ids(call, o.args).front();
        auto r = call("torrent.get", {{"id", id}});
        if (o.json) return print_json(out, r);
        try {  // the DHT line; the details are worth showing without it
            auto stats = call("session.stats", json::object());
            if (stats.is_object() && stats.contains("dht")) r["dht"] = stats["dht"];
        } catch (const CliError&) {
        }
        return void(out << format_torrent_info(r));
    }
    if (c == "stats") {
        auto r = call("session.stats", json::object());
        return o.json ? print_json(out, r) : void(out << format_stats(r));
    }
    if (c == "pause")
        return simple_action(o, call, out, "torrent.pause", target_params(o, call), "paused");
    if (c == "resume")
        return simple_action(o, call, out, o.now ? "torrent.start_now" : "torrent.resume",
                             target_params(o, call), o.now ? "started" : "resumed");
    if (c == "reannounce")
        return simple_action(o, call, out, "torrent.reannounce", target_params(o, call),
                             "reannouncing");
    if (c == "queue") {
        std::vector<std::string> prefixes(o.args.begin() + 1, o.args.end());
        json params = {{"ids", resolve_ids(call, prefixes)}, {"to", o.args.front()}};
        return simple_action(o, call, out, "torrent.queue_move", params, "moved in the queue");
    }
    if (c == "move") {
        json params = {{"ids", resolve_ids(call, {o.args[0]})},
                       {"location", std::filesystem::absolute(o.args[1]).string()},
                       {"move", true}};
        return simple_action(o, call, out, "torrent.set_location", params, "moving");
    }
    if (c == "verify")
        return simple_action(o, call, out, "torrent.verify", target_params(o, call), "verifying");
    if (c == "remove") {
        json params = {{"ids", resolve_ids(call, o.args)}, {"delete_data", o.delete_data}};
        return simple_action(o, call, out, "torrent.remove", params,
                             o.delete_data ? "removed (with data)" : "removed");
    }
    if (c == "set") {
        json params = target_params(o, call);
        if (o.down_limit) params["download_rate_limit"] = *o.down_limit;
        if (o.up_limit) params["upload_rate_limit"] = *o.up_limit;
        if (o.ratio_limit) params["ratio_limit"] = *o.ratio_limit;
        if (o.idle_limit) params["seed_idle_limit"] = *o.idle_limit;
        if (o.sequential) params["sequential"] = *o.sequential;
        if (!o.labels.empty() || o.no_labels) params["labels"] = o.labels;
        if (!o.file_priorities.empty()) {
            json files = json::object();
            for (auto [index, priority] : o.file_priorities)
                files[std::to_string(index)] = priority;
            params["file_priorities"] = std::move(files);
        }
        return simple_action(o, call, out, "torrent.set", params, "updated");
    }
    if (c == "token") return token_command(o, call, out);
    if (c == "session") return session_command(o, call, out);
    if (c == "version") {
        auto r = call("daemon.version", json::object());
        if (o.json) return print_json(out, r);
        out << r.value("name", std::string("btd")) << " " << r.value("version", std::string("?"))
            << "\n";
        return;
    }
    if (c == "shutdown") {
        auto r = call("daemon.shutdown", json::object());
        return o.json ? print_json(out, r) : void(out << "btd is shutting down\n");
    }
    throw usage_error("unknown command '" + c + "'");
}

int btctl_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const GetEnv& env) {
    try {
        auto options = parse_args(args);
        if (options.help) {
            out << options.help_text;
            return exit_code::ok;
        }
        if (options.version) {
            out << "btctl 0.1.0\n";
            return exit_code::ok;
        }
        auto state_dir = find_state_dir(options.state_dir, env);
        auto endpoint = find_endpoint(options.rpc_url, options.token, state_dir, env);
        if (options.command == "watch") {
            watch_events(endpoint.url, endpoint.token,
                         std::chrono::seconds(options.timeout_seconds), options.json, out);
            return exit_code::ok;
        }
        RpcClient client(endpoint.url, endpoint.token,
                         std::chrono::seconds(options.timeout_seconds));
        run_command(
            options,
            [&](const std::string& method, const json& params) {
                return client.call(method, params);
            },
            out);
        return exit_code::ok;
    } catch (const CliError& e) {
        err << "btctl: " << e.what() << "\n";
        return e.exit_code();
    } catch (const std::exception& e) {
        err << "btctl: " << e.what() << "\n";
        return exit_code::failure;
    }
}

}  // namespace btd::btctl
