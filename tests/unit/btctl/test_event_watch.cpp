// btctl watch: the Server-Sent Events parser and the printed lines.
#include <doctest/doctest.h>

#include "cli-remote/event_watch.hpp"

using namespace btd::btctl;

TEST_CASE("the SSE parser joins events across reads and skips comments") {
    SseParser parser;
    CHECK(parser.feed("retry: 2000\n\n: keepalive\n\nid: 7\nevent: comp").empty());
    auto events = parser.feed("leted\ndata: {\"id\":\"ab\"}\r\n\r\nevent: stats\ndata: {}\n\n");
    REQUIRE(events.size() == 2);
    CHECK(events[0].id == 7u);
    CHECK(events[0].type == "completed");
    CHECK(events[0].data == "{\"id\":\"ab\"}");
    CHECK_FALSE(events[1].id);
    CHECK(events[1].type == "stats");
}

TEST_CASE("watch --json prints one object per line with id, event and data") {
    SseEvent event{5, "state-changed", "{\"id\":\"ab\",\"state\":\"paused\"}"};
    CHECK(format_event(event, true) ==
          "{\"data\":{\"id\":\"ab\",\"state\":\"paused\"},\"event\":\"state-changed\",\"id\":5}");
    auto human = format_event(event, false);
    CHECK(human.find("state-changed") != std::string::npos);
    CHECK(human.find("(ab): paused") != std::string::npos);
}

#include <sstream>

#include "cli-remote/args.hpp"
#include "cli-remote/cli_error.hpp"
#include "cli-remote/commands.hpp"

TEST_CASE("btctl token takes create NAME [--read-only], list or revoke NAME") {
    auto o = parse_args({"token", "create", "grafana", "--read-only"});
    CHECK(o.command == "token");
    CHECK(o.args == std::vector<std::string>{"create", "grafana"});
    CHECK(o.read_only);
    CHECK(parse_args({"token", "list"}).args.size() == 1);
    CHECK(parse_args({"token", "revoke", "grafana"}).args.size() == 2);
    for (std::vector<std::string> bad : {std::vector<std::string>{"token"},
                                         {"token", "create"},
                                         {"token", "list", "x"},
                                         {"token", "revoke"},
                                         {"token", "revoke", "x", "--read-only"},
                                         {"token", "mint", "x"},
                                         {"watch", "x"}}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_args(bad), CliError);
    }
}

TEST_CASE("btctl token calls the token methods and shows a new token once") {
    std::vector<std::pair<std::string, nlohmann::json>> calls;
    RpcCall call = [&](const std::string& method, const nlohmann::json& params) {
        calls.emplace_back(method, params);
        if (method == "token.create")
            return nlohmann::json{{"name", "g"}, {"scope", "read-only"}, {"token", "abc123"}};
        if (method == "token.list")
            return nlohmann::json::array({{{"name", "g"}, {"scope", "read-only"}}});
        return nlohmann::json::object();
    };
    std::ostringstream out;
    run_command(parse_args({"token", "create", "g", "--read-only"}), call, out);
    CHECK(calls.back().first == "token.create");
    CHECK(calls.back().second == nlohmann::json{{"name", "g"}, {"read_only", true}});
    CHECK(out.str().find("abc123") != std::string::npos);
    out.str("");
    run_command(parse_args({"token", "list"}), call, out);
    CHECK(out.str() == "g  read-only\n");
    run_command(parse_args({"token", "revoke", "g"}), call, out);
    CHECK(calls.back() == std::pair<std::string, nlohmann::json>{"token.revoke", {{"name", "g"}}});
}
