// The settings table (daemon/settings_table.hpp) and what is generated from it: config keys and
// their syntax, flags and --help, RPC names and ranges, settings.json, reload.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "daemon/command_line.hpp"
#include "daemon/config.hpp"
#include "daemon/runtime_settings.hpp"
#include "daemon/settings.hpp"

using namespace btd;
using namespace btd::daemon;
using nlohmann::json;

namespace {

std::set<std::string> names_from(SettingSource who) {
    std::set<std::string> out;
    for (const auto& s : settings())
        if (s.from(who)) out.insert(s.name);
    return out;
}

DaemonConfig resolved(const ConfigValues& v) {
    return resolve_config(v, [](const char* name) -> std::optional<std::string> {
        if (std::string_view(name) == "HOME") return "/home/u";
        return std::nullopt;
    });
}

std::string error_of(std::string_view text) {
    try {
        parse_config_text(text, "btd.conf");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("the table: unique names and flags; who may set what, as before the table") {
    std::set<std::string> names, flags;
    for (const auto& s : settings()) {
        CHECK_MESSAGE(names.insert(s.name).second, s.name);
        CHECK_MESSAGE(!s.help.empty(), s.name);
        CHECK_MESSAGE(s.from(kFlag) == !s.flag.empty(), s.name);
        if (s.from(kFlag)) CHECK_MESSAGE(flags.insert(s.flag).second, s.flag);
        // RPC writes into the engine's settings, so an RPC setting needs an engine field.
        if (s.from(kRpc)) CHECK_MESSAGE(s.in_engine(), s.name);
    }
    // At least what could be set before the table existed (new rows may add more).
    auto includes = [](const std::set<std::string>& all, const std::set<std::string>& part) {
        return std::includes(all.begin(), all.end(), part.begin(), part.end());
    };
    CHECK(includes(names_from(kRpc),
                   std::set<std::string>{"download_dir", "listen_port", "download_rate_limit",
                                         "upload_rate_limit", "max_peers_per_torrent",
                                         "max_connections", "ratio_limit", "seed_idle_limit"}));
    CHECK(includes(flags,
                   std::set<std::string>{"--state-dir", "--download-dir", "--allowed-download-dirs",
                                         "--rpc-listen", "--listen-port", "--log-level",
                                         "--download-rate-limit", "--upload-rate-limit",
                                         "--ratio-limit", "--seed-idle-limit"}));
    std::set<std::string> reloadable;
    for (const auto& s : settings())
        if (s.reloadable) reloadable.insert(s.name);
    CHECK(includes(
        reloadable,
        std::set<std::string>{"download_dir", "log_level", "download_rate_limit",
                              "upload_rate_limit", "max_peers_per_torrent", "memory_budget_mib",
                              "listen_port", "ratio_limit", "seed_idle_limit"}));
    CHECK_FALSE(reloadable.count("state_dir"));
    CHECK_FALSE(reloadable.count("rpc_listen"));
    CHECK_FALSE(reloadable.count("disk_threads"));
}

TEST_CASE("the table: every default parses back to itself and reaches the engine") {
    DaemonConfig defaults;
    for (const auto& s : settings()) {
        if (s.default_text.empty()) continue;  // computed (dirs) or an empty list
        CAPTURE(s.name);
        ConfigValues v;
        s.set_text(v, s.default_text);
        DaemonConfig c;
        s.resolve(c, v);
        CHECK(s.describe(c) == s.default_text);
    }
    // The engine's defaults where the daemon has none of its own.
    auto engine = defaults.session_settings();
    CHECK(engine.max_connections == SessionSettings{}.max_connections);
    CHECK(engine.memory_budget == 256LL << 20);  // memory_budget_mib, scaled
    CHECK(engine.listen_port == 6881);
}

TEST_CASE("ranges are written once: the config file, flags, RPC and settings.json agree") {
    struct Bound {
        const char* name;
        std::int64_t min, max;
    };
    for (const Bound& bound :
         {Bound{"listen_port", 0, 65535}, Bound{"max_peers_per_torrent", 1, 10000},
          Bound{"max_connections", 1, 100000}, Bound{"seed_idle_limit", 0, kMaxSeedIdleLimit}}) {
        // Not a structured binding: clang 14 cannot capture those in CAPTURE's lambda.
        const char* name = bound.name;
        auto [min, max] = std::pair(bound.min, bound.max);
        CAPTURE(name);
        const auto* s = find_setting(name);
        REQUIRE(s);
        SessionSettings engine;
        for (auto v : {min, max}) {
            CHECK_NOTHROW(s->set_json(engine, v));
            CHECK(s->get_json(engine) == v);
            ConfigValues values;
            CHECK_NOTHROW(s->set_text(values, std::to_string(v)));
        }
        for (auto v : {min - 1, max + 1}) {
            CHECK_THROWS_WITH_AS(s->set_json(engine, v),
                                 (std::string(name) + " must be an integer from " +
                                  std::to_string(min) + " to " + std::to_string(max))
                                     .c_str(),
                                 BadSettingValue);
            ConfigValues values;
            CHECK_THROWS_AS(s->set_text(values, std::to_string(v)), ConfigError);
            CHECK(apply_overrides(engine, json{{name, v}}).max_connections ==
                  engine.max_connections);
        }
        // The help shows the same range.
        CHECK(s->range == std::to_string(min) + ".." + std::to_string(max));
    }
}

TEST_CASE(
    "one rate syntax: config file, flags, RPC and settings.json all take 500K, 2M, 1.5MiB/s") {
    auto v = parse_config_text("download_rate_limit = \"1.5MiB/s\"\nupload_rate_limit = 2M\n", "t");
    CHECK(*v.download_rate_limit == 1536 * 1024);
    CHECK(*v.upload_rate_limit == 2 * 1024 * 1024);
    CHECK(*parse_command_line({"--upload-rate-limit", "500K"}).overrides.upload_rate_limit ==
          500 * 1024);
    auto next = apply_rpc_settings(json{{"download_rate_limit", "2M"}, {"upload_rate_limit", 7}},
                                   SessionSettings{});
    CHECK(next.download_rate_limit == 2 * 1024 * 1024);
    CHECK(next.upload_rate_limit == 7);
    CHECK(
        apply_overrides(SessionSettings{}, json{{"upload_rate_limit", "500K"}}).upload_rate_limit ==
        500 * 1024);
    CHECK_THROWS_AS(apply_rpc_settings(json{{"download_rate_limit", "fast"}}, SessionSettings{}),
                    BadSettingValue);
    CHECK_THROWS_AS(apply_rpc_settings(json{{"download_rate_limit", -1}}, SessionSettings{}),
                    BadSettingValue);
}

TEST_CASE("RPC: every RPC setting round-trips through session.set and session.get") {
    SessionSettings changed;
    changed.default_download_dir = "/srv/elsewhere";
    changed.listen_port = 51413;
    changed.download_rate_limit = 1000;
    changed.upload_rate_limit = 2000;
    changed.max_peers_per_torrent = 33;
    changed.max_connections = 444;
    changed.ratio_limit = 0.1;
    changed.seed_idle_limit = 77;
    auto values = rpc_settings(changed);
    CHECK(values.size() == names_from(kRpc).size());
    auto applied = apply_rpc_settings(values, SessionSettings{});
    CHECK(rpc_settings(applied) == values);
    CHECK(applied.max_connections == 444);
    CHECK(applied.ratio_limit == 0.1);
    CHECK(applied.default_download_dir == "/srv/elsewhere");
    // Null is absent; an empty object changes nothing.
    CHECK(rpc_settings(apply_rpc_settings(json{{"listen_port", nullptr}}, changed)) == values);
    CHECK(rpc_settings(apply_rpc_settings(json::object(), changed)) == values);
}

TEST_CASE("RPC: unknown names and settings RPC may not set are refused, naming them") {
    for (const char* name :
         {"state_dir", "rpc_auth", "memory_budget_mib", "disk_threads", "nope"}) {
        CAPTURE(name);
        try {
            apply_rpc_settings(json{{name, 1}}, SessionSettings{});
            FAIL("accepted");
        } catch (const BadSettingValue& e) {
            std::string message = e.what();
            CHECK(message.rfind("unknown param '" + std::string(name) + "' (expected: ", 0) == 0);
            CHECK(message.find("max_connections") != std::string::npos);
        }
    }
    CHECK_THROWS_WITH(apply_rpc_settings(json{{"download_dir", ""}}, SessionSettings{}),
                      doctest::Contains("download_dir must be a non-empty string"));
}

TEST_CASE("reload: a non-reloadable setting keeps its running value") {
    ConfigValues v;
    v.rpc_auth = false;
    v.disk_threads = 3;
    v.listen_port = 7000;
    auto running = resolved({});
    auto next = resolved(v);
    for (const auto& s : settings())
        if (!s.reloadable) s.keep(next, running);
    CHECK(next.rpc_auth == true);     // needs a restart
    CHECK(next.disk_threads == 0);    // needs a restart
    CHECK(next.listen_port == 7000);  // reloadable
}

TEST_CASE("--help is generated from the rows: every flag, its value name, help and default") {
    auto help = usage_text();
    std::string flat;  // long defaults are broken over lines: joined again here
    for (std::size_t i = 0; i < help.size(); ++i) {
        if (help[i] != '\n') {
            flat += help[i];
            continue;
        }
        while (i + 1 < help.size() && help[i + 1] == ' ') ++i;
    }
    for (const auto& s : settings()) {
        if (!s.from(kFlag)) {
            CHECK_MESSAGE(help.find(s.help) == std::string::npos, s.name);
            continue;
        }
        CAPTURE(s.name);
        CHECK(help.find(s.flag + " " + s.value_name) != std::string::npos);
        CHECK(help.find(s.help) != std::string::npos);
        if (!s.default_text.empty())
            CHECK(flat.find("[" + s.default_text + "]") != std::string::npos);
    }
    for (auto other :
         {"--config", "--foreground", "--download", "--timeout", "--seed", "--help", "--version"})
        CHECK_MESSAGE(help.find(other) != std::string::npos, other);
    std::size_t start = 0;
    while (start < help.size()) {  // fits a terminal
        auto end = help.find('\n', start);
        if (end == std::string::npos) end = help.size();
        CHECK_MESSAGE(end - start <= 100, help.substr(start, end - start));
        start = end + 1;
    }
}

TEST_CASE("command line: CLI11 also takes --flag=value; the last of a repeated flag wins") {
    auto cl =
        parse_command_line({"--listen-port=2000", "--log-level", "debug", "--log-level=warn"});
    CHECK(*cl.overrides.listen_port == 2000);
    CHECK(*cl.overrides.log_level == spdlog::level::warn);
    CHECK_THROWS_WITH_AS(parse_command_line({"--listen-port", "99999"}),
                         doctest::Contains("invalid --listen-port: '99999' is not a port"),
                         UsageError);
    CHECK_THROWS_AS(parse_command_line({"stray"}), UsageError);
    CHECK(parse_command_line({"--version"}).mode == CommandLine::Mode::version);
}

TEST_CASE("config file: TOML with types, arrays, comments and escapes") {
    auto parsed = parse_config_file_text(
        "# btd config\n"
        "download_dir = \"/srv/my #1 disk\"  # a comment\n"
        "rpc_allowed_hosts = [\"nas.lan\", \"box.local\"]\n"
        "allowed_download_dirs = [\n"
        "  \"/srv/media\",\n"
        "  \"/srv/tv\",  # one per line\n"
        "]\n"
        "rpc_auth = false\n"
        "listen_port = 51_413\n"
        "ratio_limit = 1.5\n"
        "upload_rate_limit = \"500K\"\n"
        "download_rate_limit = 65536\n"
        "state_dir = 'C:\\literal'\n",
        "t");
    CHECK_FALSE(parsed.legacy_warning);
    auto& v = parsed.values;
    CHECK(*v.download_dir == "/srv/my #1 disk");
    CHECK(*v.rpc_allowed_hosts == std::vector<std::string>{"nas.lan", "box.local"});
    CHECK(*v.allowed_download_dirs == std::vector<std::filesystem::path>{"/srv/media", "/srv/tv"});
    CHECK(*v.rpc_auth == false);
    CHECK(*v.listen_port == 51413);
    CHECK(*v.ratio_limit == 1.5);
    CHECK(*v.upload_rate_limit == 500 * 1024);
    CHECK(*v.download_rate_limit == 65536);
    CHECK(*v.state_dir == "C:\\literal");
}

TEST_CASE("config file: TOML errors name the line") {
    CHECK(error_of("log_level = \"info\"\n\nfoo = 1\n") == "btd.conf:3: unknown key 'foo'");
    CHECK(error_of("listen_port = 1\nlisten_port = 2\n").rfind("btd.conf:2: ", 0) == 0);
    CHECK(error_of("[rpc]\nlisten = 1\n").rfind("btd.conf:1: unknown key 'rpc'", 0) == 0);
    CHECK(error_of("log_level = [\"info\"]\n") ==
          "btd.conf:1: log_level: takes one value, not a list");
    CHECK(error_of("rpc_allowed_hosts = [1, 2]\n").find("strings in quotes") != std::string::npos);
    CHECK(error_of("download_dir = \"relative\"\n").find("not an absolute path") !=
          std::string::npos);
    CHECK(error_of("listen_port = 70000\n")
              .rfind("btd.conf:1: listen_port: '70000' is not a port", 0) == 0);
    CHECK(error_of("ratio_limit = inf\n").find("is not a ratio") != std::string::npos);
}

TEST_CASE("config file: old unquoted lines are read as before, with one line on how to migrate") {
    auto parsed = parse_config_file_text(
        "download_dir = /srv/dl   # where data goes\n"
        "log_level = \"debug\"\n"
        "rpc_allowed_hosts = nas.lan, box.local\n"
        "rpc_auth = false\n",
        "btd.conf");
    CHECK(*parsed.values.download_dir == "/srv/dl");
    CHECK(*parsed.values.log_level == spdlog::level::debug);
    CHECK(*parsed.values.rpc_allowed_hosts == std::vector<std::string>{"nas.lan", "box.local"});
    CHECK(*parsed.values.rpc_auth == false);
    REQUIRE(parsed.legacy_warning);
    auto& warning = *parsed.legacy_warning;
    CAPTURE(warning);
    CHECK(warning.find('\n') == std::string::npos);
    CHECK(warning.rfind("btd.conf:1: download_dir = /srv/dl", 0) == 0);
    CHECK(warning.find("(2 such lines)") != std::string::npos);
    CHECK(warning.find("download_dir = \"/srv/dl\"") != std::string::npos);
    // A list's suggestion is a TOML array that reads back to the same list.
    auto list = parse_config_file_text("rpc_allowed_hosts = a.lan, b.lan\n", "t");
    REQUIRE(list.legacy_warning);
    auto suggestion =
        list.legacy_warning->substr(list.legacy_warning->find("rpc_allowed_hosts = ["));
    CAPTURE(suggestion);
    auto back = parse_config_file_text(suggestion, "t");
    CHECK_FALSE(back.legacy_warning);
    CHECK(*back.values.rpc_allowed_hosts == *list.values.rpc_allowed_hosts);
}

TEST_CASE("the sample config, every key uncommented, is TOML and names every config key") {
    auto sample =
        std::filesystem::path(BTD_TEST_DATA_DIR) / ".." / ".." / "systemd" / "btd.conf.sample";
    std::ifstream in(sample);
    REQUIRE(in);
    std::string text, line;
    std::set<std::string> keys;
    while (std::getline(in, line)) {
        auto eq = line.find(" = ");
        if (line.size() < 2 || line[0] != '#' || line[1] == ' ' || eq == std::string::npos)
            continue;
        keys.insert(line.substr(1, eq - 1));
        text += line.substr(1) + "\n";
    }
    auto parsed = parse_config_file_text(text, "btd.conf.sample");
    CHECK_FALSE(parsed.legacy_warning);
    auto all = config_keys();
    CHECK(keys == std::set<std::string>(all.begin(), all.end()));
}

TEST_CASE("a row added to the table (upload_slots) reaches the file, RPC, settings.json, reload") {
    const auto* row = find_setting("upload_slots");
    REQUIRE(row);
    auto c = resolved(parse_config_text("upload_slots = 2\n", "t"));
    CHECK(c.session_settings().upload_slots == 2);
    CHECK(c.describe()["upload_slots"] == "2");
    CHECK(error_of("upload_slots = 0\n").find("is not a slot count (1..100)") != std::string::npos);
    auto set = apply_rpc_settings(json{{"upload_slots", 9}}, c.session_settings());
    CHECK(set.upload_slots == 9);
    CHECK(rpc_settings(set)["upload_slots"] == 9);
    CHECK_THROWS_WITH(apply_rpc_settings(json{{"upload_slots", 101}}, set),
                      "upload_slots must be an integer from 1 to 100");
    auto o = runtime_overrides(c.session_settings(), set);
    CHECK(o == json{{"upload_slots", 9}});
    CHECK(apply_overrides(c.session_settings(), o).upload_slots == 9);
    CHECK(row->reloadable);
}

TEST_CASE("config file: non-ASCII text outside quotes is read the old way, never given to toml++") {
    // An unquoted Cyrillic path: toml++ 3.3.0 reached __builtin_unreachable on it (fuzz_config).
    auto parsed = parse_config_file_text(
        "state_dir = /srv/\xd1\x87\ndownload_dir = \"/srv/\xd1\x87\"\n", "t");
    CHECK(*parsed.values.state_dir == "/srv/\xd1\x87");
    CHECK(*parsed.values.download_dir == "/srv/\xd1\x87");
    CHECK(parsed.legacy_warning);
    auto toml = parse_config_file_text("download_dir = \"/srv/\xd1\x87\"  # \xd1\x87\n", "t");
    CHECK_FALSE(toml.legacy_warning);
    CHECK(*toml.values.download_dir == "/srv/\xd1\x87");
    // Non-ASCII inside a string that is not TOML (unclosed, or with a control byte) reached the
    // same point (fuzz_config, corpus regression-toml-unclosed-string-nonascii): now a clear error.
    CHECK_THROWS_AS(parse_config_file_text("download_dir = \"/srv/\xd1\x87\n", "t"), ConfigError);
    CHECK_THROWS_AS(parse_config_file_text(std::string("x = \"\x01\xd1\x87\"\n"), "t"),
                    ConfigError);
}

TEST_CASE("lsd: on by default in the daemon, off with lsd = false, --no-lsd or session.set") {
    CHECK(resolved({}).session_settings().lsd);
    CHECK_FALSE(SessionSettings{}.lsd);  // an engine on its own sends nothing to the LAN
    CHECK_FALSE(resolved(parse_config_text("lsd = false\n", "t")).session_settings().lsd);
    auto file = parse_config_text("lsd = true\n", "t");
    auto cl = parse_command_line({"--no-lsd"});
    file.override_with(cl.overrides);
    CHECK_FALSE(resolved(file).session_settings().lsd);
    CHECK(usage_text().find("--no-lsd") != std::string::npos);
    auto set = apply_rpc_settings(json{{"lsd", false}}, resolved({}).session_settings());
    CHECK_FALSE(set.lsd);
    CHECK(rpc_settings(set)["lsd"] == false);
    CHECK(find_setting("lsd")->reloadable);
}

TEST_CASE("DHT: on by default with the public routers; --no-dht and --dht-bootstrap") {
    auto engine = resolved({}).session_settings();
    CHECK(engine.dht);
    CHECK(engine.dht_bootstrap_nodes == kDefaultDhtBootstrapNodes);
    CHECK(engine.dht_table_file == resolved({}).state_dir / "dht.dat");
    auto cl = parse_command_line({"--no-dht", "--dht-bootstrap", "127.0.1.1:7000,[::1]:7001"});
    CHECK(*cl.overrides.dht == false);
    CHECK(*cl.overrides.dht_bootstrap_nodes ==
          std::vector<std::string>{"127.0.1.1:7000", "[::1]:7001"});
    CHECK(parse_command_line({"--dht-bootstrap", ""}).overrides.dht_bootstrap_nodes->empty());
    CHECK_THROWS_WITH_AS(parse_command_line({"--dht-bootstrap", "router.example"}),
                         doctest::Contains("invalid --dht-bootstrap"), UsageError);
    CHECK_THROWS_AS(apply_rpc_settings(json{{"dht_bootstrap_nodes", {"nohost"}}}, engine),
                    BadSettingValue);
    CHECK(apply_rpc_settings(json{{"dht", false}}, engine).dht == false);
}

TEST_CASE("tuning: each TorrentTuning field is a config row with the engine's default") {
    DaemonConfig defaults;
    const TorrentTuning engine;
    CHECK(defaults.session_settings().tuning.request_timeout == engine.request_timeout);
    CHECK(defaults.session_settings().tuning.max_upload_queue == engine.max_upload_queue);
    CHECK(defaults.session_settings().tuning.files_check_every_s == engine.files_check_every_s);

    auto c = resolved(parse_config_text(
        "request_timeout = 45\nmax_upload_queue = 2500\npeer_inactivity_timeout = 300\n"
        "rechoke_interval = 15\n",
        "t"));
    auto tuning = c.session_settings().tuning;
    CHECK(tuning.request_timeout == std::chrono::seconds(45));
    CHECK(tuning.max_upload_queue == 2500);
    CHECK(tuning.inactivity_timeout == std::chrono::seconds(300));
    CHECK(tuning.rechoke_every_s == 15);
    CHECK(tuning.keep_alive_interval == engine.keep_alive_interval);  // untouched rows keep theirs
    CHECK(c.describe()["request_timeout"] == "45");
    CHECK(error_of("request_timeout = 1\n").find("(5..600)") != std::string::npos);
    const auto* row = find_setting("request_timeout");
    REQUIRE(row);
    CHECK(row->from(kConfig));
    CHECK_FALSE(row->from(kRpc));
    CHECK_FALSE(row->reloadable);
}

TEST_CASE("config file: text that breaks an assertion of toml++ is an error, in every build") {
    // toml++ 3.3.0 asserts on these (parse_key, parse_value; fuzz_config, corpus
    // regression-toml-header-without-key): a release build ran into undefined behaviour.
    for (const char* text :
         {"[[$\n", "log_level = \"info\"\n[[[\n", "[=x]\n", "  [.a]\n", "[[ $]]\n", "x = [[[}\n"}) {
        CAPTURE(text);
        CHECK_THROWS_AS(parse_config_file_text(text, "t"), ConfigError);
    }
    auto parsed = parse_config_file_text("download_dir = \"/srv/a\"\n", "t");
    CHECK(*parsed.values.download_dir == "/srv/a");
    CHECK_FALSE(parsed.legacy_warning);
}
