// ratio_limit and seed_idle_limit: config file, flags, session settings and runtime overrides.
#include <doctest/doctest.h>

#include <filesystem>

#include "daemon/command_line.hpp"
#include "daemon/config.hpp"
#include "daemon/runtime_settings.hpp"

using namespace btd;
using namespace btd::daemon;
using nlohmann::json;

namespace {

std::string error_of(std::string_view text) {
    try {
        parse_config_text(text, "btd.conf");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

DaemonConfig resolved(const ConfigValues& v) {
    return resolve_config(v, [](const char* name) -> std::optional<std::string> {
        if (std::string_view(name) == "HOME") return "/home/u";
        return std::nullopt;
    });
}

}  // namespace

TEST_CASE("config: seed limits parse and reach the session settings") {
    auto v = parse_config_text("ratio_limit = 2.5\nseed_idle_limit = 3600\n", "t");
    CHECK(*v.ratio_limit == 2.5);
    CHECK(*v.seed_idle_limit == 3600);
    auto s = resolved(v).session_settings();
    CHECK(s.ratio_limit == 2.5);
    CHECK(s.seed_idle_limit == 3600);

    auto defaults = resolved({});
    CHECK(defaults.ratio_limit == 0);
    CHECK(defaults.seed_idle_limit == 0);
    CHECK(defaults.session_settings().ratio_limit == 0);
    CHECK(defaults.session_settings().seed_idle_limit == 0);

    CHECK(*parse_config_text("ratio_limit = 0\n", "t").ratio_limit == 0);
    CHECK(*parse_config_text("ratio_limit = 3\n", "t").ratio_limit == 3);
    CHECK(*parse_config_text("ratio_limit = 0.25\n", "t").ratio_limit == 0.25);
    CHECK(*parse_config_text("seed_idle_limit = 0\n", "t").seed_idle_limit == 0);
    CHECK(*parse_config_text("seed_idle_limit = 315360000\n", "t").seed_idle_limit ==
          kMaxSeedIdleLimit);
}

TEST_CASE("config: bad seed limits are errors naming the line and key") {
    for (auto bad : {"-1", "", "two", "1.5x", "inf", "nan", "-0.5", "1e999", "2,5"}) {
        CAPTURE(bad);
        auto e = error_of(std::string("ratio_limit = ") + bad + "\n");
        CHECK(e.rfind("btd.conf:1: ratio_limit: ", 0) == 0);
        CHECK(e.find("is not a ratio") != std::string::npos);
    }
    for (auto bad : {"-1", "", "1.5", "30m", "315360001", "99999999999999999999", "x"}) {
        CAPTURE(bad);
        auto e = error_of(std::string("\nseed_idle_limit = ") + bad + "\n");
        CHECK(e.rfind("btd.conf:2: seed_idle_limit: ", 0) == 0);
        CHECK(e.find("is not a number of seconds") != std::string::npos);
    }
    CHECK_THROWS_AS(parse_ratio(" 1"), ConfigError);
    CHECK(parse_ratio("1e1") == 10);
}

TEST_CASE("config: describe() shows seed limits in a form that parses back") {
    ConfigValues v;
    v.ratio_limit = 0.1;  // not exact in binary: must come back bit for bit
    v.seed_idle_limit = 90;
    auto d = resolved(v).describe();
    CHECK(d["ratio_limit"] == "0.1");
    CHECK(d["seed_idle_limit"] == "90");
    ConfigValues back;
    set_config_value(back, "ratio_limit", d["ratio_limit"]);
    set_config_value(back, "seed_idle_limit", d["seed_idle_limit"]);
    CHECK(*back.ratio_limit == 0.1);
    CHECK(*back.seed_idle_limit == 90);
    CHECK(resolved({}).describe()["ratio_limit"] == "0");
}

TEST_CASE("command line: --ratio-limit and --seed-idle-limit override the file") {
    auto file = parse_config_text("ratio_limit = 1\nseed_idle_limit = 60\n", "t");
    auto cl = parse_command_line({"--ratio-limit", "1.5", "--seed-idle-limit", "120"});
    CHECK(cl.mode == CommandLine::Mode::daemon);
    file.override_with(cl.overrides);
    auto c = resolved(file);
    CHECK(c.ratio_limit == 1.5);
    CHECK(c.seed_idle_limit == 120);

    auto only_ratio = parse_config_text("seed_idle_limit = 60\n", "t");
    only_ratio.override_with(parse_command_line({"--ratio-limit", "4"}).overrides);
    CHECK(resolved(only_ratio).seed_idle_limit == 60);  // no flag: the file's value stays

    CHECK_THROWS_AS(parse_command_line({"--ratio-limit", "-2"}), UsageError);
    CHECK_THROWS_AS(parse_command_line({"--seed-idle-limit", "1h"}), UsageError);
    CHECK_THROWS_AS(parse_command_line({"--seed-idle-limit"}), UsageError);
}

TEST_CASE("runtime overrides: seed limits round trip through settings.json") {
    SessionSettings base;  // the config: no limits
    auto now = base;
    now.ratio_limit = 1.25;
    now.seed_idle_limit = 300;
    auto o = runtime_overrides(base, now);
    CHECK(o == json{{"ratio_limit", 1.25}, {"seed_idle_limit", 300}});

    auto dir = std::filesystem::temp_directory_path() / "btd-seed-limits-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    save_runtime_overrides(dir, o);
    auto loaded = load_runtime_overrides(dir);
    std::filesystem::remove_all(dir);
    CHECK(loaded == o);
    auto applied = apply_overrides(base, loaded);
    CHECK(applied.ratio_limit == 1.25);
    CHECK(applied.seed_idle_limit == 300);
    CHECK(runtime_overrides(base, applied) == o);

    // Back to the config's values: nothing left to keep.
    CHECK(overrides_after_set(o, base, base, base.listen_port).empty());
    // An integer ratio in a hand-edited file is still a ratio.
    CHECK(apply_overrides(base, json{{"ratio_limit", 2}}).ratio_limit == 2);
}

TEST_CASE("runtime overrides: bad seed limits are skipped") {
    SessionSettings base;
    base.ratio_limit = 3;
    base.seed_idle_limit = 50;
    for (auto bad :
         {json{{"ratio_limit", -1}}, json{{"ratio_limit", "2"}}, json{{"ratio_limit", true}},
          json{{"seed_idle_limit", -5}}, json{{"seed_idle_limit", 1.5}},
          json{{"seed_idle_limit", "60"}}, json{{"seed_idle_limit", kMaxSeedIdleLimit + 1}}}) {
        CAPTURE(bad.dump());
        auto s = apply_overrides(base, bad);
        CHECK(s.ratio_limit == 3);
        CHECK(s.seed_idle_limit == 50);
    }
    CHECK(apply_overrides(base, json{{"seed_idle_limit", 0}}).seed_idle_limit == 0);
    CHECK(apply_overrides(base, json{{"ratio_limit", 0}}).ratio_limit == 0);
}

TEST_CASE("reload: a seed limit changed in the config file replaces its runtime override") {
    SessionSettings old_base, new_base;
    new_base.seed_idle_limit = 600;  // edited in the file
    json overrides = {{"seed_idle_limit", 30}, {"ratio_limit", 2.0}};
    auto dropped = drop_overrides_changed_in_config(overrides, old_base, new_base);
    CHECK(dropped == std::vector<std::string>{"seed_idle_limit"});
    CHECK(overrides == json{{"ratio_limit", 2.0}});
    auto s = apply_overrides(new_base, overrides);
    CHECK(s.seed_idle_limit == 600);  // the file's new value
    CHECK(s.ratio_limit == 2.0);      // the untouched key keeps the value set over RPC
}
