#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../rpc_transport/test_server_fixture.hpp"
#include "cli-remote/cli_error.hpp"
#include "cli-remote/commands.hpp"
#include "rpc/transport/base64.hpp"
#include "rpc/transport/secret.hpp"
#include "rpc/transport/state_files.hpp"

using namespace btd;
using namespace btd::btctl;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "btctl-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

const std::string kIdA = "aa11000000000000000000000000000000000000";
const std::string kIdB = "aa22000000000000000000000000000000000000";
const std::string kIdC = "bb00000000000000000000000000000000000000";

json torrent(const std::string& id, const std::string& name) {
    return {{"id", id},         {"name", name}, {"state", "downloading"},
            {"progress", 0.25}, {"size", 4096}, {"download_rate", 1024},
            {"upload_rate", 0}, {"peers", 2},   {"eta", 90}};
}

// A fake daemon: records every call, answers like btd would.
struct FakeDaemon {
    std::vector<std::pair<std::string, json>> calls;

    json operator()(const std::string& method, const json& params) {
        calls.emplace_back(method, params);
        if (method == "torrent.list")
            return json::array(
                {torrent(kIdA, "alpha"), torrent(kIdB, "beta"), torrent(kIdC, "gamma")});
        if (method == "torrent.get") {
            if (params.at("id") != kIdC)
                throw rpc::RpcError(rpc::errc::unknown_torrent, "unknown torrent");
            auto t = torrent(kIdC, "gamma");
            t["files"] =
                json::array({{{"path", "gamma/file.bin"}, {"size", 4096}, {"progress", 0.25}}});
            return t;
        }
        if (method == "torrent.add")
            return {{"id", kIdA}, {"name", "alpha"}, {"duplicate", params.contains("uri")}};
        if (method == "session.stats") return {{"torrents", 3}, {"download_rate", 1024}};
        if (method == "daemon.version") return {{"name", "btd"}, {"version", "0.1.0"}};
        return json::object();
    }
};

RpcCall as_call(FakeDaemon& daemon) {
    return [&daemon](const std::string& m, const json& p) { return daemon(m, p); };
}

std::string run(FakeDaemon& daemon, std::vector<std::string> args) {
    std::ostringstream out;
    run_command(parse_args(args), as_call(daemon), out);
    return out.str();
}

}  // namespace

TEST_CASE("list: table by default, JSON only with --json") {
    FakeDaemon daemon;
    auto table = run(daemon, {"list"});
    CHECK(table.find("alpha") != std::string::npos);
    CHECK(table.find("25.0%") != std::string::npos);
    CHECK(table.find("1m 30s") != std::string::npos);
    auto machine = json::parse(run(daemon, {"list", "--json"}));
    CHECK(machine.size() == 3);
    CHECK(machine[2]["id"] == kIdC);
}

TEST_CASE("ids are resolved from prefixes before acting") {
    FakeDaemon daemon;
    run(daemon, {"pause", "AA1", "bb"});
    REQUIRE(daemon.calls.size() == 2);
    CHECK(daemon.calls[0].first == "torrent.list");
    CHECK(daemon.calls[1].first == "torrent.pause");
    CHECK(daemon.calls[1].second == json{{"ids", {kIdA, kIdC}}});

    daemon.calls.clear();
    run(daemon, {"resume", "--all"});
    REQUIRE(daemon.calls.size() == 1);  // no lookup needed
    CHECK(daemon.calls[0].second == json{{"all", true}});

    daemon.calls.clear();
    run(daemon, {"remove", "bb", "--delete-data"});
    CHECK(daemon.calls.back().second == json{{"ids", {kIdC}}, {"delete_data", true}});

    daemon.calls.clear();
    run(daemon, {"set", "--all", "--down-limit", "1M"});
    CHECK(daemon.calls.back().first == "torrent.set");
    CHECK(daemon.calls.back().second == json{{"all", true}, {"download_rate_limit", 1048576}});
}

TEST_CASE("an ambiguous prefix stops before anything is changed") {
    FakeDaemon daemon;
    try {
        run(daemon, {"pause", "aa"});
        FAIL("expected an error");
    } catch (const CliError& e) {
        CHECK(e.exit_code() == exit_code::usage);
        CHECK(std::string(e.what()).find("alpha") != std::string::npos);
    }
    CHECK(daemon.calls.size() == 1);  // only the list
}

TEST_CASE("info shows details; stats and version") {
    FakeDaemon daemon;
    auto info = run(daemon, {"info", "b"});
    CHECK(info.find("gamma/file.bin") != std::string::npos);
    CHECK(json::parse(run(daemon, {"info", "b", "--json"}))["name"] == "gamma");
    CHECK(run(daemon, {"stats"}).find("Torrents:") != std::string::npos);
    CHECK(run(daemon, {"version"}) == "btd 0.1.0\n");
}

TEST_CASE("add sends local files as base64 and URIs as they are") {
    TempDir dir;
    auto file = dir.path / "x.torrent";
    std::string bytes("d4:infod4:name1:xee\0\xff", 21);
    std::ofstream(file, std::ios::binary) << bytes;
    FakeDaemon daemon;
    auto out = run(daemon, {"add", file.string(), "--paused", "--dir", "rel"});
    CHECK(out == "added: alpha (" + kIdA + ")\n");
    const auto& params = daemon.calls.back().second;
    CHECK(rpc::base64_decode(params["metainfo"].get<std::string>()) == bytes);
    CHECK(params["paused"] == true);
    CHECK(fs::path(params["download_dir"].get<std::string>()).is_absolute());

    auto dup = run(daemon, {"add", "https://example.org/x.torrent"});
    CHECK(dup.find("already added") != std::string::npos);
    CHECK(daemon.calls.back().second["uri"] == "https://example.org/x.torrent");

    try {
        run(daemon, {"add", (dir.path / "missing.torrent").string()});
        FAIL("expected an error");
    } catch (const CliError& e) {
        CHECK(e.exit_code() == exit_code::failure);
        CHECK(std::string(e.what()).find("cannot read") != std::string::npos);
    }
}

TEST_CASE("state dir and endpoint discovery") {
    std::map<std::string, std::string> vars;
    GetEnv env = [&](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    vars["HOME"] = "/home/u";
    CHECK(find_state_dir(std::nullopt, env) == "/home/u/.local/state/btd");
    vars["XDG_STATE_HOME"] = "/xdg";
    CHECK(find_state_dir(std::nullopt, env) == "/xdg/btd");
    vars["BTD_STATE_DIR"] = "/state";
    CHECK(find_state_dir(std::nullopt, env) == "/state");
    CHECK(find_state_dir(std::string("/flag"), env) == "/flag");

    TempDir dir;
    auto e = find_endpoint(std::nullopt, std::nullopt, dir.path, env);
    CHECK(e.url == "http://127.0.0.1:9092/rpc");
    CHECK_FALSE(e.token);
    std::ofstream(dir.path / "rpc.address") << "127.0.0.1:4567\n";
    std::ofstream(dir.path / "rpc.secret") << "filesecret\n";
    e = find_endpoint(std::nullopt, std::nullopt, dir.path, env);
    CHECK(e.url == "http://127.0.0.1:4567/rpc");
    CHECK(e.token == "filesecret");
    vars["BTD_RPC_TOKEN"] = "envtoken";
    CHECK(find_endpoint(std::nullopt, std::nullopt, dir.path, env).token == "envtoken");
    e = find_endpoint(std::string("http://[::1]:1/rpc"), std::string("flag"), dir.path, env);
    CHECK(e.url == "http://[::1]:1/rpc");
    CHECK(e.token == "flag");
}

// End to end: btctl_main against a real RpcServer (with test methods) found via a state dir.
TEST_CASE("btctl against a real server: discovery, auth, exit codes") {
    using namespace btd::rpc::test;
    TempDir state;
    auto secret = rpc::load_or_create_secret(state.path / std::string(rpc::kRpcSecretFile));
    rpc::RpcServerOptions options;
    options.auth_secret = secret;
    ServerFixture server(options, [](rpc::Dispatcher& d, asio::io_context&) {
        auto fake = std::make_shared<FakeDaemon>();
        for (auto method : {"torrent.list", "torrent.get", "torrent.pause", "daemon.version"})
            d.add(method, [fake, m = std::string(method)](const json& p) { return (*fake)(m, p); });
    });
    rpc::write_address_file(state.path,
                            tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port));

    GetEnv no_env = [](const char*) -> std::optional<std::string> { return std::nullopt; };
    auto btctl = [&](std::vector<std::string> args, std::string& out, std::string& err) {
        std::ostringstream o, e;
        int code = btctl_main(args, o, e, no_env);
        out = o.str();
        err = e.str();
        return code;
    };
    std::string out, err;
    CHECK(btctl({"--state-dir", state.path.string(), "list"}, out, err) == exit_code::ok);
    CHECK(out.find("gamma") != std::string::npos);
    CHECK(err.empty());

    CHECK(btctl({"--state-dir", state.path.string(), "pause", "bb"}, out, err) == exit_code::ok);
    CHECK(out == "paused 1 torrent\n");

    CHECK(btctl({"--state-dir", state.path.string(), "info", "aa"}, out, err) == exit_code::usage);
    CHECK(err.find("ambiguous") != std::string::npos);
    CHECK(btctl({"--state-dir", state.path.string(), "info", "ff"}, out, err) == exit_code::usage);

    CHECK(btctl({"--state-dir", state.path.string(), "--token", "wrong", "list"}, out, err) ==
          exit_code::auth);
    CHECK(err.find("401") != std::string::npos);

    // Nobody listening there.
    std::uint16_t closed_port;
    {
        asio::io_context io;
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        closed_port = a.local_endpoint().port();
    }
    auto url = "http://127.0.0.1:" + std::to_string(closed_port) + "/rpc";
    CHECK(btctl({"--rpc", url, "list"}, out, err) == exit_code::unreachable);
    CHECK(err == "btctl: cannot reach btd at " + url + ": connection refused\n");

    CHECK(btctl({"--rpc", "https://127.0.0.1/rpc", "list"}, out, err) == exit_code::usage);
    CHECK(btctl({"--help"}, out, err) == exit_code::ok);
    CHECK(out.find("usage: btctl") == 0);
}

TEST_CASE("btctl session get [KEY] and set KEY VALUE over session.get/session.set") {
    std::vector<std::pair<std::string, json>> calls;
    RpcCall call = [&](const std::string& method, const json& params) -> json {
        calls.emplace_back(method, params);
        if (method == "session.get")
            return {{"download_dir", "/srv/dl"}, {"download_rate_limit", 0}, {"ratio_limit", 1.5}};
        if (method == "session.set") return {{"download_rate_limit", 2097152}};
        return json::object();
    };
    auto run_with = [&](std::vector<std::string> args) {
        std::ostringstream out;
        run_command(parse_args(args), call, out);
        return out.str();
    };
    CHECK(run_with({"session", "get"}) ==
          "download_dir = /srv/dl\ndownload_rate_limit = 0\nratio_limit = 1.5\n");
    CHECK(run_with({"session", "get", "download_dir"}) == "/srv/dl\n");
    CHECK(json::parse(run_with({"session", "get", "ratio_limit", "--json"})) == 1.5);
    CHECK_THROWS_WITH_AS(run_with({"session", "get", "nope"}),
                         doctest::Contains("unknown setting 'nope'"), CliError);
    CHECK(run_with({"session", "set", "download_rate_limit", "2M"}) ==
          "download_rate_limit = 2097152\n");
    CHECK(calls.back().second == json{{"download_rate_limit", "2M"}});  // text: btd parses it
    run_with({"session", "set", "ratio_limit", "2"});
    CHECK(calls.back().second == json{{"ratio_limit", 2}});
    run_with({"session", "set", "download_dir", "/srv/new dir"});
    CHECK(calls.back().second == json{{"download_dir", "/srv/new dir"}});
    for (std::vector<std::string> bad : {std::vector<std::string>{"session"},
                                         {"session", "set", "ratio_limit"},
                                         {"session", "get", "a", "b"},
                                         {"session", "put", "a", "b"}}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_args(bad), CliError);
    }
}

TEST_CASE("btctl info shows when a torrent was added and finished") {
    RpcCall call = [](const std::string& method, const json&) -> json {
        json t = {{"id", kIdC},           {"name", "gamma"}, {"state", "seeding"},
                  {"progress", 1.0},      {"size", 4096},    {"added_at", 1764497000},
                  {"done_at", 1764497112}};
        if (method == "torrent.list") return json::array({t});
        return t;
    };
    std::ostringstream out;
    run_command(parse_args({"info", kIdC}), call, out);
    CHECK(out.str().find("Added:") != std::string::npos);
    auto done = out.str().find("Done:");
    REQUIRE(done != std::string::npos);
    CHECK(out.str().find("2025-11-30 10:05:12 UTC", done) != std::string::npos);
}

TEST_CASE("btctl info shows the DHT's nodes and lookups in flight and each peer's source") {
    std::vector<std::string> methods;
    RpcCall call = [&](const std::string& method, const json&) -> json {
        methods.push_back(method);
        json t = {{"id", kIdC},
                  {"name", "gamma"},
                  {"state", "downloading"},
                  {"peers", {{{"address", "127.0.0.1:6881"}, {"source", "dht"}}}}};
        if (method == "torrent.list") return json::array({t});
        if (method == "session.stats")
            return {{"dht", {{"enabled", true}, {"nodes", 17}, {"lookups", 2}}}};
        return t;
    };
    std::ostringstream out;
    run_command(parse_args({"info", kIdC}), call, out);
    CHECK(out.str().find("17 nodes, 2 lookups in flight") != std::string::npos);
    CHECK(out.str().find("127.0.0.1:6881  dht") != std::string::npos);
    std::ostringstream json_out;  // --json prints torrent.get as it is
    run_command(parse_args({"info", kIdC, "--json"}), call, json_out);
    CHECK_FALSE(json::parse(json_out.str()).contains("dht"));
}
