#pragma once
// A real Session on 127.0.0.1 (any port, one disk thread, a temp download dir) with the RPC
// method handlers bound to a Dispatcher; calls run the io_context until the reply (bounded).
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

#include "daemon/settings.hpp"
#include "rpc/methods/session_methods.hpp"
#include "rpc/transport/base64.hpp"

namespace btd::rpc::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline const std::string kSingleId = "0dd3ba470adb6e6c0831ecc2f49b5d132296cb28";
inline const fs::path kSingleTorrent = fs::path(BTD_TEST_DATA_DIR) / "lt_single.torrent";

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Harness {
    boost::asio::io_context io;
    fs::path dir;
    std::unique_ptr<Session> session;
    Dispatcher dispatcher;
    int shutdowns = 0;                            // daemon.shutdown calls
    std::vector<SessionSettings> saved_settings;  // what session.set asked the daemon to save
    int next_id = 1;

    // `configure` may change the method options (e.g. allowed_download_dirs, job_added) before
    // the methods are registered.
    explicit Harness(
        const std::function<void(SessionMethodsOptions&, const fs::path& dir)>& configure = {}) {
        std::string pattern = (fs::temp_directory_path() / "btd-rpcs-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        SessionSettings settings;
        settings.listen_port = 0;
        settings.listen_address = "127.0.0.1";
        settings.default_download_dir = dir / "downloads";
        settings.disk_threads = 1;
        session = std::make_unique<Session>(io, settings);
        SessionMethodsOptions options;
        options.shutdown = [this] { ++shutdowns; };
        options.settings_changed = [this](const SessionSettings& s) {
            saved_settings.push_back(s);
        };
        options.fetch.timeout = std::chrono::seconds(3);
        options.settings = {daemon::rpc_settings, daemon::apply_rpc_settings};
        if (configure) configure(options, dir);
        register_session_methods(dispatcher, *session, io, options);
    }
    ~Harness() {
        bool done = false;
        session->shutdown([&] { done = true; });
        for (int i = 0; i < 100 && !done; ++i) io.run_for(std::chrono::milliseconds(50));
        session.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    json call(const std::string& method, const json& params = json::object()) {
        json request = {
            {"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", next_id++}};
        std::optional<std::string> reply;
        dispatcher.handle(request.dump(), [&](std::optional<std::string> r) { reply = r; });
        for (int i = 0; i < 200 && !reply; ++i) io.run_for(std::chrono::milliseconds(25));
        REQUIRE(reply.has_value());
        return json::parse(*reply);
    }
    json result(const std::string& method, const json& params = json::object()) {
        auto r = call(method, params);
        CAPTURE(r.dump());
        REQUIRE(r.contains("result"));
        return r["result"];
    }
    int error(const std::string& method, const json& params = json::object()) {
        auto r = call(method, params);
        CAPTURE(r.dump());
        REQUIRE(r.contains("error"));
        return r["error"]["code"].get<int>();
    }
    json add_single(bool paused = true) {
        return result("torrent.add",
                      {{"metainfo", base64_encode(read_file(kSingleTorrent))}, {"paused", paused}});
    }
};

}  // namespace btd::rpc::testing
