#include <doctest/doctest.h>

#include "cli-remote/args.hpp"
#include "cli-remote/cli_error.hpp"

using namespace btd::btctl;

namespace {

CliOptions parse(std::vector<std::string> args) {
    return parse_args(args);
}

int usage_failure(std::vector<std::string> args) {
    try {
        parse_args(args);
    } catch (const CliError& e) {
        return e.exit_code();
    }
    return 0;
}

}  // namespace

TEST_CASE("global options before or after the command, both --opt value and --opt=value") {
    auto o = parse({"--rpc", "http://127.0.0.1:1/rpc", "--token=abc", "list", "--json",
                    "--state-dir", "/tmp/s", "--timeout", "5"});
    CHECK(o.command == "list");
    CHECK(o.rpc_url == "http://127.0.0.1:1/rpc");
    CHECK(o.token == "abc");
    CHECK(o.state_dir == "/tmp/s");
    CHECK(o.timeout_seconds == 5);
    CHECK(o.json);
    CHECK(o.args.empty());
}

TEST_CASE("add with options; -- ends options") {
    auto o = parse({"add", "a.torrent", "--dir", "/data", "--paused", "magnet:?xt=x"});
    CHECK(o.command == "add");
    CHECK(o.args == std::vector<std::string>{"a.torrent", "magnet:?xt=x"});
    CHECK(o.dir == "/data");
    CHECK(o.paused);
    auto dashed = parse({"add", "--", "--weird-name.torrent"});
    CHECK(dashed.args == std::vector<std::string>{"--weird-name.torrent"});
}

TEST_CASE("id commands") {
    auto p = parse({"pause", "ab12", "cd"});
    CHECK(p.args.size() == 2);
    CHECK_FALSE(p.all);
    CHECK(parse({"resume", "--all"}).all);
    CHECK(parse({"remove", "ab", "--delete-data"}).delete_data);
    auto s = parse({"set", "ab", "--down-limit", "1.5M", "--up-limit=64K", "--ratio-limit", "2"});
    CHECK(s.down_limit == 1572864);
    CHECK(s.up_limit == 65536);
    CHECK(s.ratio_limit == 2.0);
    CHECK(parse({"info", "ab"}).args == std::vector<std::string>{"ab"});
}

TEST_CASE("set --idle-limit takes seconds, minutes or hours") {
    CHECK(parse({"set", "ab", "--idle-limit", "90"}).idle_limit == 90);
    CHECK(parse({"set", "ab", "--idle-limit", "30m"}).idle_limit == 1800);
    CHECK(parse({"set", "ab", "--idle-limit=2h"}).idle_limit == 7200);
    CHECK(parse({"set", "ab", "--idle-limit", "0"}).idle_limit == 0);
    for (const char* bad : {"-1", "5x", "", "1.5h", "999999999999h"})
        CHECK(usage_failure({"set", "ab", "--idle-limit", bad}) == exit_code::usage);
}

TEST_CASE("usage errors exit 2") {
    CHECK(usage_failure({}) == exit_code::usage);
    CHECK(usage_failure({"frobnicate"}) == exit_code::usage);
    CHECK(usage_failure({"list", "--bogus"}) == exit_code::usage);
    CHECK(usage_failure({"list", "extra"}) == exit_code::usage);
    CHECK(usage_failure({"info"}) == exit_code::usage);
    CHECK(usage_failure({"info", "a", "b"}) == exit_code::usage);
    CHECK(usage_failure({"pause"}) == exit_code::usage);
    CHECK(usage_failure({"pause", "ab", "--all"}) == exit_code::usage);
    CHECK(usage_failure({"remove", "--all"}) == exit_code::usage);  // too dangerous to allow
    CHECK(usage_failure({"remove"}) == exit_code::usage);
    CHECK(usage_failure({"add"}) == exit_code::usage);
    CHECK(usage_failure({"list", "--paused"}) == exit_code::usage);
    CHECK(usage_failure({"set", "ab"}) == exit_code::usage);
    CHECK(usage_failure({"set", "ab", "--down-limit", "fast"}) == exit_code::usage);
    CHECK(usage_failure({"set", "ab", "--ratio-limit", "-1"}) == exit_code::usage);
    CHECK(usage_failure({"list", "--rpc"}) == exit_code::usage);
    CHECK(usage_failure({"list", "--json=yes"}) == exit_code::usage);
    CHECK(usage_failure({"--timeout", "0", "list"}) == exit_code::usage);
}

TEST_CASE("help and version need no command") {
    CHECK(parse({"--help"}).help);
    CHECK(parse({"-h"}).help);
    CHECK(parse({"--version"}).version);
    CHECK(usage_text().find("add FILE|MAGNET|URL") != std::string::npos);
}

TEST_CASE("rate parsing") {
    CHECK(parse_rate("0") == 0);
    CHECK(parse_rate("unlimited") == 0);
    CHECK(parse_rate("500") == 500);
    CHECK(parse_rate("64K") == 65536);
    CHECK(parse_rate("64k") == 65536);
    CHECK(parse_rate("64KiB") == 65536);
    CHECK(parse_rate("2M") == 2097152);
    CHECK(parse_rate("1.5MB/s") == 1572864);
    CHECK(parse_rate("1G") == 1073741824);
    CHECK_FALSE(parse_rate(""));
    CHECK_FALSE(parse_rate("K"));
    CHECK_FALSE(parse_rate("-5"));
    CHECK_FALSE(parse_rate("5X"));
    CHECK_FALSE(parse_rate("1e3"));
    CHECK_FALSE(parse_rate("99999G"));
}

TEST_CASE("set --files and --sequential") {
    auto o =
        parse({"set", "abc", "--files", "0,2,5-7=skip", "--files=3=high", "--sequential", "on"});
    CHECK(o.file_priorities == std::map<int, int>{{0, 0}, {2, 0}, {3, 7}, {5, 0}, {6, 0}, {7, 0}});
    CHECK(o.sequential == std::optional<bool>(true));
    CHECK(parse({"set", "--all", "--files", "1=4"}).file_priorities == std::map<int, int>{{1, 4}});
    CHECK(parse({"set", "abc", "--sequential=off"}).sequential == std::optional<bool>(false));
    // Later flags win for the same file.
    CHECK(parse({"set", "abc", "--files", "1-2=low", "--files", "2=normal"}).file_priorities ==
          std::map<int, int>{{1, 1}, {2, 4}});
    for (const char* bad : {"1", "=skip", "1=", "1=9", "1=max", "a=skip", "2-1=skip", "1,,2=low",
                            "-1=skip", "0-999999=low"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse({"set", "abc", "--files", bad}), CliError);
    }
    CHECK_THROWS_AS(parse({"set", "abc", "--sequential", "yes"}), CliError);
    CHECK_THROWS_AS(parse({"info", "abc", "--files", "1=skip"}), CliError);
}

TEST_CASE(
    "--json before the command, a repeated option's last value, the daemon's rate spellings") {
    CHECK(parse({"--json", "list"}).json);
    auto o = parse({"set", "ab", "--down-limit", "1M", "--down-limit", "1.5MiB/s", "--up-limit",
                    "2m", "--timeout", "9", "--timeout=10"});
    CHECK(o.down_limit == 1572864);
    CHECK(o.up_limit == 2097152);
    CHECK(o.timeout_seconds == 10);
    CHECK(parse({"set", "ab", "--up-limit", "unlimited"}).up_limit == 0);
    CHECK(usage_failure({"set", "ab", "--ratio-limit", "nan"}) == exit_code::usage);
    CHECK(usage_failure({"set", "ab", "--ratio-limit", "inf"}) == exit_code::usage);
    CHECK(usage_failure({"list", "--", "x"}) == exit_code::usage);
    CHECK(parse({"pause", "--", "ab"}).args == std::vector<std::string>{"ab"});
}
