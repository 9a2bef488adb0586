#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>

#include "cli-remote/args.hpp"
#include "cli-remote/cli_error.hpp"
#include "cli-remote/commands.hpp"

using namespace btd::btctl;

namespace {

// Each command's own options; every other command's options must not appear in its help.
const std::map<std::string, std::set<std::string>> kOwnOptions = {
    {"add", {"--dir", "--paused", "--json"}},
    {"list", {"--json"}},
    {"info", {"--json"}},
    {"pause", {"--all", "--json"}},
    {"resume", {"--all", "--now", "--json"}},
    {"queue", {"--json"}},
    {"move", {"--json"}},
    {"reannounce", {"--all", "--json"}},
    {"verify", {"--all", "--json"}},
    {"remove", {"--delete-data", "--json"}},
    {"set",
     {"--all", "--down-limit", "--up-limit", "--ratio-limit", "--files", "--sequential", "--json"}},
    {"stats", {"--json"}},
    {"version", {"--json"}},
    {"shutdown", {"--json"}},
    {"watch", {"--json"}},
    {"token", {"--read-only", "--json"}},
    {"session", {"--json"}},
};

std::set<std::string> all_command_options() {
    std::set<std::string> all;
    for (const auto& [command, options] : kOwnOptions) all.insert(options.begin(), options.end());
    return all;
}

std::string help_of(const std::string& command) {
    auto o = parse_args({command, "--help"});
    REQUIRE(o.help);
    return o.help_text;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string usage_message(std::vector<std::string> args) {
    try {
        parse_args(args);
    } catch (const CliError& e) {
        CHECK(e.exit_code() == exit_code::usage);
        return e.what();
    }
    FAIL("expected a usage error");
    return {};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the table of this test covers every command btctl has") {
    std::set<std::string> names;
    for (const auto& name : command_names()) names.insert(name);
    std::set<std::string> tested;
    for (const auto& [command, options] : kOwnOptions) tested.insert(command);
    CHECK(names == tested);
}

TEST_CASE("btctl --help lists each command on one line, then the global options") {
    auto text = usage_text();
    CHECK(text.rfind("usage: btctl [--rpc URL]", 0) == 0);
    auto lines = lines_of(text);
    for (const auto& name : command_names()) {
        CAPTURE(name);
        int rows = 0;
        for (const auto& line : lines)
            if (line.rfind("  " + name + " ", 0) == 0) ++rows;
        CHECK(rows == 1);
    }
    for (const char* global : {"--rpc URL", "--token T", "--state-dir DIR", "--timeout S"})
        CHECK(contains(text, global));
    CHECK(contains(text, "btctl COMMAND --help"));
    CHECK(contains(text, "exit codes"));
    for (const auto& line : lines) {
        CAPTURE(line);
        CHECK(line.size() <= 100);
    }
}

TEST_CASE("btctl CMD --help explains that command: usage, its own options only, an example") {
    auto others = all_command_options();
    for (const auto& entry : kOwnOptions) {
        // Named, not a structured binding: clang 14 cannot capture those in CAPTURE's lambda.
        const auto& command = entry.first;
        const auto& own = entry.second;
        CAPTURE(command);
        auto text = help_of(command);
        CHECK(text.rfind("usage: btctl " + command, 0) == 0);
        CHECK(text != usage_text());
        for (const auto& option : own) {
            CAPTURE(option);
            CHECK(contains(text, option));
        }
        for (const auto& option : others) {
            if (own.count(option)) continue;
            CAPTURE(option);
            CHECK_FALSE(contains(text, option));
        }
        CHECK(contains(text, "\nExample:\n  btctl " + command));
        CHECK(contains(text, "-h,--help"));
        CHECK(parse_args({command, "-h"}).help_text == text);
        for (const auto& line : lines_of(text)) {
            CAPTURE(line);
            CHECK(line.size() <= 100);
        }
    }
}

TEST_CASE("a command's help names its arguments and what its values look like") {
    auto add = help_of("add");
    CHECK(contains(add, "usage: btctl add FILE|MAGNET|URL..."));
    CHECK(contains(add, "--dir DIR"));
    auto set = help_of("set");
    CHECK(contains(set, "usage: btctl set ID...|--all"));
    CHECK(contains(set, "--down-limit RATE"));
    CHECK(contains(set, "500K"));
    CHECK(contains(set, "--files INDEXES=PRIORITY"));
    CHECK(contains(set, "--sequential on|off"));
    CHECK(contains(help_of("info"), "usage: btctl info ID"));
    CHECK(contains(help_of("remove"), "--delete-data"));
}

TEST_CASE("btctl_main prints a command's help and exits 0 without looking for btd") {
    GetEnv no_env = [](const char*) -> std::optional<std::string> { return std::nullopt; };
    std::ostringstream out, err;
    CHECK(btctl_main({"--state-dir", "/nonexistent", "verify", "--help"}, out, err, no_env) ==
          exit_code::ok);
    CHECK(out.str() == help_of("verify"));
    CHECK(err.str().empty());
}

TEST_CASE("usage errors name the offending word and the --help to read") {
    auto unknown_command = usage_message({"frobnicate"});
    CHECK(contains(unknown_command, "'frobnicate'"));
    CHECK(contains(unknown_command, "btctl --help"));

    auto unknown_option = usage_message({"list", "--bogus"});
    CHECK(contains(unknown_option, "'--bogus'"));
    CHECK(contains(unknown_option, "btctl list --help"));

    auto elsewhere = usage_message({"list", "--paused"});
    CHECK(contains(elsewhere, "--paused"));
    CHECK(contains(elsewhere, "add"));
    CHECK(contains(elsewhere, "btctl list --help"));

    auto before_command = usage_message({"--paused", "add", "x.torrent"});
    CHECK(contains(before_command, "after the command"));
    CHECK(contains(before_command, "btctl add --help"));

    CHECK(contains(usage_message({"list", "extra"}), "'extra'"));
    CHECK(contains(usage_message({"list", "--json=yes"}), "--json takes no value"));
    CHECK(contains(usage_message({"list", "--rpc"}), "--rpc needs a value"));
    CHECK(contains(usage_message({"set", "ab", "--down-limit", "fast"}), "'fast'"));
    CHECK(contains(usage_message({}), "btctl --help"));
}
