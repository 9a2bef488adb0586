#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "daemon/command_line.hpp"
#include "daemon/config.hpp"
#include "daemon/settings.hpp"

using namespace btd::daemon;

namespace {

Getenv env(std::map<std::string, std::string> vars) {
    return [vars](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
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

TEST_CASE("config file: every key, comments and blank lines") {
    auto v = parse_config_text(
        "# btd config\n"
        "\n"
        "download_dir = /srv/dl\n"
        "  state_dir=/var/lib/btd  \n"
        "rpc_listen = [::1]:9000\n"
        "listen_port = 51413\n"
        "log_level = debug\n"
        "download_rate_limit = 2M\n"
        "upload_rate_limit = 512k\n"
        "max_peers_per_torrent = 40\n"
        "memory_budget_mib = 128\n"
        "disk_threads = 3\n"
        "rpc_auth = false\n"
        "rpc_allowed_hosts = nas.lan, , box.local\n"
        "   # indented comment\r\n",
        "t");
    CHECK(*v.download_dir == "/srv/dl");
    CHECK(*v.state_dir == "/var/lib/btd");
    CHECK(v.rpc_listen->host == "::1");
    CHECK(v.rpc_listen->port == 9000);
    CHECK(*v.listen_port == 51413);
    CHECK(*v.log_level == spdlog::level::debug);
    CHECK(*v.download_rate_limit == 2 * 1024 * 1024);
    CHECK(*v.upload_rate_limit == 512 * 1024);
    CHECK(*v.max_peers_per_torrent == 40);
    CHECK(*v.memory_budget_mib == 128);
    CHECK(*v.disk_threads == 3);
    CHECK(*v.rpc_auth == false);
    CHECK(*v.rpc_allowed_hosts == std::vector<std::string>{"nas.lan", "box.local"});
}

TEST_CASE("config file: empty text sets nothing") {
    auto v = parse_config_text("", "t");
    CHECK_FALSE(v.download_dir);
    CHECK_FALSE(v.rpc_auth);
    CHECK_FALSE(parse_config_text("\n\n# only comments", "t").log_level);
}

TEST_CASE("config file: errors name the file, line and problem") {
    CHECK(error_of("log_level = info\nfoo = 1\n") == "btd.conf:2: unknown key 'foo'");
    CHECK(error_of("\n\nlisten_port 80\n").find("btd.conf:3: expected 'key = value'") == 0);
    auto port = error_of("listen_port = 70000");
    CHECK(port.find("btd.conf:1: listen_port:") == 0);
    CHECK(port.find("70000") != std::string::npos);
    CHECK(error_of("log_level = loud").find("not a log level") != std::string::npos);
    CHECK(error_of("rpc_auth = maybe").find("not a boolean") != std::string::npos);
    CHECK(error_of("rpc_listen = 127.0.0.1").find("missing :PORT") != std::string::npos);
    CHECK(error_of("rpc_listen = ::1:80").find("brackets") != std::string::npos);
    CHECK(error_of("download_rate_limit = -5").find("download_rate_limit") != std::string::npos);
    CHECK(error_of("download_rate_limit = 5x").find("bytes/s") != std::string::npos);
    CHECK(error_of("max_peers_per_torrent = 0") != "");
    CHECK(error_of("download_dir =") != "");
    CHECK(error_of("= 5").find("unknown key ''") != std::string::npos);
}

TEST_CASE("value syntaxes") {
    CHECK(parse_rate("0") == 0);
    CHECK(parse_rate("1G") == 1024LL * 1024 * 1024);
    CHECK_THROWS_AS(parse_rate(""), ConfigError);
    CHECK_THROWS_AS(parse_rate("k"), ConfigError);
    CHECK(parse_bool("YES"));
    CHECK_FALSE(parse_bool("off"));
    CHECK(parse_host_port("localhost:0") == HostPort{"localhost", 0});
    CHECK_THROWS_AS(parse_host_port(":80"), ConfigError);
    CHECK_THROWS_AS(parse_host_port("[::1]80"), ConfigError);
    CHECK(parse_log_level("Warning") == spdlog::level::warn);
}

TEST_CASE("command-line flags override the config file") {
    auto file = parse_config_text("listen_port = 1000\nlog_level = debug\nrpc_auth = false\n", "t");
    auto cl = parse_command_line({"--config", "/etc/btd.conf", "--listen-port", "2000",
                                  "--rpc-listen", "127.0.0.1:0", "--foreground"});
    CHECK(cl.mode == CommandLine::Mode::daemon);
    CHECK(*cl.config_file == "/etc/btd.conf");
    file.override_with(cl.overrides);
    auto c = resolve_config(file, env({{"HOME", "/home/u"}}));
    CHECK(c.listen_port == 2000);
    CHECK(c.log_level == spdlog::level::debug);  // from the file: no flag
    CHECK(c.rpc_auth == false);
    CHECK(c.rpc_listen == HostPort{"127.0.0.1", 0});
}

TEST_CASE("command line: download mode and usage errors") {
    auto cl = parse_command_line({"--download", "t.torrent", "--download-dir", "out",
                                  "--listen-port", "7000", "--timeout", "30"});
    CHECK(cl.mode == CommandLine::Mode::download);
    CHECK(cl.download.torrent_file == "t.torrent");
    CHECK(cl.download.download_dir == "out");
    CHECK(cl.download.listen_port == 7000);
    CHECK(cl.download.timeout_s == 30);
    auto plain = parse_command_line({"--download", "x"});
    CHECK(plain.download.download_dir == ".");
    CHECK_FALSE(plain.download.seed);
    CHECK(plain.download.upload_rate_limit == 0);
    auto seeding = parse_command_line(
        {"--download", "x", "--seed", "--upload-rate-limit", "1m", "--download-rate-limit", "7"});
    CHECK(seeding.download.seed);
    CHECK(seeding.download.upload_rate_limit == 1024 * 1024);
    CHECK(seeding.download.download_rate_limit == 7);
    CHECK_THROWS_AS(parse_command_line({"--seed"}), UsageError);
    CHECK_THROWS_AS(parse_command_line({"--bogus"}), UsageError);
    CHECK_THROWS_AS(parse_command_line({"--state-dir"}), UsageError);
    CHECK_THROWS_AS(parse_command_line({"--timeout", "5"}), UsageError);
    CHECK_THROWS_AS(parse_command_line({"--listen-port", "x"}), UsageError);
    CHECK(parse_command_line({"--help"}).mode == CommandLine::Mode::help);
}

TEST_CASE("defaults: state dir selection") {
    CHECK(default_state_dir(env({{"STATE_DIRECTORY", "/var/lib/btd:/var/lib/other"},
                                 {"XDG_STATE_HOME", "/x"},
                                 {"HOME", "/h"}})) == "/var/lib/btd");
    CHECK(default_state_dir(env({{"XDG_STATE_HOME", "/x"}, {"HOME", "/h"}})) == "/x/btd");
    CHECK(default_state_dir(env({{"XDG_STATE_HOME", "rel"}, {"HOME", "/h"}})) ==
          "/h/.local/state/btd");
    CHECK(default_state_dir(env({{"STATE_DIRECTORY", ""}, {"HOME", "/h"}})) ==
          "/h/.local/state/btd");
    CHECK_THROWS_AS(default_state_dir(env({})), ConfigError);
}

TEST_CASE("defaults: download dir and the rest") {
    CHECK(default_download_dir("/s", env({{"HOME", "/h"}})) == "/h/Downloads");
    CHECK(default_download_dir("/s", env({{"HOME", "/h"}, {"STATE_DIRECTORY", "/s"}})) ==
          "/s/downloads");
    CHECK(default_download_dir("/s", env({{"HOME", "/"}})) == "/s/downloads");
    CHECK(default_download_dir("/s", env({})) == "/s/downloads");

    auto c = resolve_config({}, env({{"STATE_DIRECTORY", "/var/lib/btd"}}));
    CHECK(c.state_dir == "/var/lib/btd");
    CHECK(c.download_dir == "/var/lib/btd/downloads");
    CHECK(c.rpc_listen == HostPort{"127.0.0.1", 9092});
    CHECK(c.rpc_auth);
    auto s = c.session_settings();
    CHECK(s.memory_budget == 256LL << 20);
    CHECK(s.default_download_dir == "/var/lib/btd/downloads");
}

TEST_CASE("describe() lists every config key") {
    auto c = resolve_config({}, env({{"HOME", "/h"}}));
    auto d = c.describe();
    for (auto& key : config_keys()) CHECK_MESSAGE(d.count(key) == 1, key);
    CHECK(d.size() == config_keys().size());
    // Every described value parses back to the same value.
    ConfigValues v;
    for (auto& [key, value] : d) set_config_value(v, key, value);
    CHECK(resolve_config(v, env({})).describe() == d);
}

TEST_CASE("config file: an inline # comment is not part of the value; quotes keep a #") {
    auto v = parse_config_text(
        "download_dir = /srv/dl   # where data goes\n"
        "log_level = debug\t# chatty\n"
        "state_dir = \"/var/lib/btd #1\"  # quoted: the # stays\n"
        "rpc_allowed_hosts = nas.lan#x, box.local # a # inside a word stays\n",
        "t");
    CHECK(*v.download_dir == "/srv/dl");
    CHECK(*v.log_level == spdlog::level::debug);
    CHECK(*v.state_dir == "/var/lib/btd #1");
    CHECK(*v.rpc_allowed_hosts == std::vector<std::string>{"nas.lan#x", "box.local"});
    CHECK(config_value_text(R"( "a \"q\" and \\ " )") == R"(a "q" and \ )");
    CHECK(config_value_text("# only a comment").empty());
    CHECK(error_of("download_dir = \"/srv/dl") != "");
    CHECK(error_of("download_dir = \"/srv/dl\" trailing").find("after the closing quote") !=
          std::string::npos);
    CHECK(error_of("download_dir = # nothing but a comment") != "");
}

TEST_CASE("config file: a relative download_dir is refused; allowed_download_dirs") {
    CHECK(error_of("download_dir = downloads").find("not an absolute path") != std::string::npos);
    CHECK(error_of("download_dir = ./dl").find("btd.conf:1:") == 0);
    auto v = parse_config_text("allowed_download_dirs = /srv/media/, /home/u/Downloads\n", "t");
    CHECK(*v.allowed_download_dirs ==
          std::vector<std::filesystem::path>{"/srv/media/", "/home/u/Downloads"});
    CHECK(error_of("allowed_download_dirs = media").find("not an absolute path") !=
          std::string::npos);
    CHECK(parse_config_text("allowed_download_dirs = ,", "t").allowed_download_dirs->empty());
    auto c = resolve_config(v, [](const char*) -> std::optional<std::string> { return "/home/u"; });
    CHECK(c.allowed_download_dirs.size() == 2);
    CHECK(c.describe()["allowed_download_dirs"] == "/srv/media/,/home/u/Downloads");
    auto cl = parse_command_line({"--allowed-download-dirs", "/a,/b"});
    CHECK(cl.overrides.allowed_download_dirs->size() == 2);
}

TEST_CASE("config file: read bounded; a FIFO is refused at once, a symlink is followed") {
    auto dir = std::filesystem::temp_directory_path() / "btd-config-file-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto real = dir / "real.conf";
    {
        std::ofstream out(real);
        out << "log_level = debug # comment\n";
    }
    std::filesystem::create_symlink(real, dir / "link.conf");
    CHECK(*load_config_file(dir / "link.conf").log_level == spdlog::level::debug);
    REQUIRE(::mkfifo((dir / "fifo.conf").c_str(), 0600) == 0);
    auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(load_config_file(dir / "fifo.conf"), ConfigError);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK_THROWS_AS(load_config_file(dir / "missing.conf"), ConfigError);
    std::filesystem::remove_all(dir);
}

TEST_CASE("btd's rates use the same syntax as btctl's") {
    CHECK(parse_rate("1.5MiB/s") == 1536 * 1024);
    CHECK(parse_rate("500K") == 500 * 1024);
    CHECK(parse_rate("unlimited") == 0);
    CHECK_THROWS_WITH_AS(parse_rate("fast"), doctest::Contains("1.5MiB/s"), ConfigError);
}

TEST_CASE("config file: rpc_username and rpc_password come as a pair; the password is hidden") {
    auto getenv = env({{"HOME", "/h"}});
    auto v = parse_config_text("rpc_username = \"sonarr\"\nrpc_password = \"p a:s#s\"\n", "t");
    auto c = resolve_config(v, getenv);
    CHECK(c.rpc_username == "sonarr");
    CHECK(c.rpc_password == "p a:s#s");
    CHECK(find_setting("rpc_password")->hidden);
    CHECK_FALSE(find_setting("rpc_username")->hidden);
    auto half = [&](const char* text) {
        try {
            resolve_config(parse_config_text(text, "t"), getenv);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(half("rpc_username = \"u\"\n").find("go together") != std::string::npos);
    CHECK(half("rpc_password = \"p\"\n").find("go together") != std::string::npos);
    CHECK(half("rpc_username = \"a:b\"\nrpc_password = \"p\"\n").find("':'") != std::string::npos);
    CHECK(resolve_config({}, getenv).rpc_username.empty());
}
