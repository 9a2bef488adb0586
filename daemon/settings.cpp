#include "daemon/settings.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "core/util/ascii.hpp"
#include "core/util/bind_target.hpp"
#include "core/util/units.hpp"

namespace btd::daemon {

using nlohmann::json;

namespace {

// Comma-separated items, each trimmed; empty items are skipped.
std::vector<std::string> split_list(std::string_view value) {
    std::vector<std::string> items;
    std::string_view rest = value;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = trim_blanks(rest.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return items;
}

std::vector<std::string> trimmed_items(const std::vector<std::string>& items) {
    std::vector<std::string> out;
    for (const auto& item : items)
        if (auto t = trim_blanks(item); !t.empty()) out.emplace_back(t);
    return out;
}

template <typename Item>
std::string join(const std::vector<Item>& items) {
    std::string out;
    for (const auto& item : items) {
        // Not "," + item: GCC 12 at -O3 warns falsely (-Wrestrict) on it.
        if (!out.empty()) out += ',';
        if constexpr (std::is_same_v<Item, std::filesystem::path>)
            out += item.string();
        else
            out += item;
    }
    return out;
}

std::vector<std::string> json_strings(const json& j) {
    if (!j.is_array()) throw BadSettingValue("must be an array of strings");
    std::vector<std::string> items;
    for (const auto& item : j) {
        if (!item.is_string()) throw BadSettingValue("must be an array of strings");
        items.push_back(item.get<std::string>());
    }
    return items;
}

// A JSON string read with a text syntax.
template <typename T>
T from_json_text(const json& j, const Syntax<T>& syntax, const char* what) {
    if (!j.is_string()) throw BadSettingValue(std::string("must be ") + what);
    try {
        return syntax.parse(j.get<std::string>());
    } catch (const ConfigError&) {
        throw BadSettingValue(std::string("must be ") + what);
    }
}

std::vector<std::filesystem::path> checked_absolute(const std::vector<std::string>& items) {
    std::vector<std::filesystem::path> dirs;
    for (const auto& item : items) {
        std::filesystem::path dir(item);
        if (!dir.is_absolute())
            throw ConfigError("'" + item + "' is not an absolute path (start it with /)");
        dirs.push_back(dir.lexically_normal());
    }
    return dirs;  // empty: anywhere
}

}  // namespace

// -- value syntaxes: every range is written here, once --------------------------------------------

template <typename Int>
Syntax<Int> whole(Int min, Int max, std::string what) {
    Syntax<Int> s;
    auto range = std::to_string(min) + ".." + std::to_string(max);
    s.parse = [=](std::string_view text) {
        Int v{};  // parsed as Int itself: a negative minimum (-1 = unlimited) works too
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min ||
            v > max)
            throw ConfigError("'" + std::string(text) + "' is not " + what + " (" + range + ")");
        return v;
    };
    s.format = [](const Int& v) { return std::to_string(v); };
    s.to_json = [](const Int& v) { return json(v); };
    s.from_json = [=](const json& j) {
        bool ok = j.is_number_integer() &&
                  (!j.is_number_unsigned() ||
                   j.get<std::uint64_t>() <= static_cast<std::uint64_t>(max)) &&
                  j.get<std::int64_t>() >= static_cast<std::int64_t>(min) &&
                  j.get<std::int64_t>() <= static_cast<std::int64_t>(max);
        if (!ok)
            throw BadSettingValue("must be an integer from " + std::to_string(min) + " to " +
                                  std::to_string(max));
        return static_cast<Int>(j.get<std::int64_t>());
    };
    s.range = range;
    return s;
}

template Syntax<std::uint16_t> whole(std::uint16_t, std::uint16_t, std::string);
template Syntax<int> whole(int, int, std::string);
template Syntax<unsigned> whole(unsigned, unsigned, std::string);
template Syntax<std::int64_t> whole(std::int64_t, std::int64_t, std::string);

Syntax<std::int64_t> rate() {
    Syntax<std::int64_t> s;
    s.parse = [](std::string_view text) { return parse_rate(text); };
    s.format = [](const std::int64_t& v) { return std::to_string(v); };
    s.to_json = [](const std::int64_t& v) { return json(v); };
    s.from_json = [](const json& j) {
        // Bytes/s as a number, or the same text as in the config file and btctl ("2M").
        if (j.is_number_integer() && !j.is_number_unsigned() && j.get<std::int64_t>() >= 0 &&
            j.get<std::int64_t>() <= kMaxRate)
            return j.get<std::int64_t>();
        if (j.is_number_unsigned() && j.get<std::uint64_t>() <= std::uint64_t(kMaxRate))
            return static_cast<std::int64_t>(j.get<std::uint64_t>());
        if (j.is_string())
            if (auto v = btd::parse_rate(j.get<std::string>())) return *v;
        throw BadSettingValue("must be an integer from 0 to " + std::to_string(kMaxRate) +
                              " (bytes/s) or a rate such as \"2M\"");
    };
    s.range = "0 = unlimited";
    return s;
}

Syntax<double> ratio() {
    Syntax<double> s;
    s.parse = [](std::string_view text) { return parse_ratio(text); };
    s.format = [](const double& v) {
        char text[32];  // shortest form that parses back to the same double
        auto end = std::to_chars(text, text + sizeof text, v).ptr;
        return std::string(text, end);
    };
    s.to_json = [](const double& v) { return json(v); };
    s.from_json = [](const json& j) {
        if (!j.is_number() || !std::isfinite(j.get<double>()) || j.get<double>() < 0)
            throw BadSettingValue("must be a number >= 0 (e.g. 2.0)");
        return j.get<double>();
    };
    s.range = ">= 0";
    return s;
}

Syntax<std::filesystem::path> path() {
    Syntax<std::filesystem::path> s;
    s.parse = [](std::string_view text) {
        if (text.empty()) throw ConfigError("an empty path is not allowed");
        return std::filesystem::path(std::string(text));
    };
    s.format = [](const std::filesystem::path& p) { return p.string(); };
    s.to_json = [](const std::filesystem::path& p) { return json(p.string()); };
    s.from_json = [](const json& j) {
        if (!j.is_string() || j.get<std::string>().empty())
            throw BadSettingValue("must be a non-empty string (a path)");
        return std::filesystem::path(j.get<std::string>());
    };
    return s;
}

Syntax<std::filesystem::path> optional_path() {
    Syntax<std::filesystem::path> s = path();
    s.parse = [](std::string_view text) { return std::filesystem::path(std::string(text)); };
    s.from_json = [](const json& j) {
        if (!j.is_string()) throw BadSettingValue("must be a string (a path, or \"\" for none)");
        return std::filesystem::path(j.get<std::string>());
    };
    s.range = "a path, \"\" = none";
    return s;
}

Syntax<HostPort> host_port() {
    Syntax<HostPort> s;
    s.parse = [](std::string_view text) { return parse_host_port(text); };
    s.format = [](const HostPort& hp) {
        auto host = hp.host.find(':') != std::string::npos ? "[" + hp.host + "]" : hp.host;
        return host + ":" + std::to_string(hp.port);
    };
    s.to_json = [f = s.format](const HostPort& hp) { return json(f(hp)); };
    s.from_json = [s](const json& j) { return from_json_text(j, s, "HOST:PORT"); };
    return s;
}

Syntax<spdlog::level::level_enum> level_name() {
    Syntax<spdlog::level::level_enum> s;
    s.parse = [](std::string_view text) { return parse_log_level(text); };
    s.format = [](const spdlog::level::level_enum& level) {
        auto name = spdlog::level::to_string_view(level);
        return std::string(name.data(), name.size());
    };
    s.to_json = [f = s.format](const spdlog::level::level_enum& l) { return json(f(l)); };
    s.from_json = [s](const json& j) { return from_json_text(j, s, "a log level"); };
    return s;
}

Syntax<std::string> bind_target() {
    Syntax<std::string> s;
    s.parse = [](std::string_view text) {
        std::string value(text);
        try {
            parse_bind_target(value);
        } catch (const std::invalid_argument& e) {
            throw ConfigError(e.what());
        }
        return value;
    };
    s.format = [](const std::string& v) { return v; };
    s.to_json = [](const std::string& v) { return json(v); };
    s.from_json = [s](const json& j) {
        return from_json_text(j, s, "an IP address or a network interface name");
    };
    return s;
}

Syntax<bool> boolean() {
    Syntax<bool> s;
    s.parse = [](std::string_view text) { return parse_bool(text); };
    s.format = [](const bool& b) { return std::string(b ? "true" : "false"); };
    s.to_json = [](const bool& b) { return json(b); };
    s.from_json = [](const json& j) {
        if (!j.is_boolean()) throw BadSettingValue("must be true or false");
        return j.get<bool>();
    };
    return s;
}

Syntax<std::string> text() {
    Syntax<std::string> s;
    s.parse = [](std::string_view t) { return std::string(t); };
    s.format = [](const std::string& t) { return t; };
    s.to_json = [](const std::string& t) { return json(t); };
    s.from_json = [](const json& j) {
        if (!j.is_string()) throw BadSettingValue("must be a string");
        return j.get<std::string>();
    };
    return s;
}

Syntax<std::vector<std::string>> names() {
    Syntax<std::vector<std::string>> s;
    s.parse = [](std::string_view text) { return split_list(text); };
    s.parse_items = trimmed_items;
    s.format = join<std::string>;
    s.to_json = [](const std::vector<std::string>& v) { return json(v); };
    s.from_json = [](const json& j) { return trimmed_items(json_strings(j)); };
    return s;
}

Syntax<std::vector<std::string>> host_ports() {
    auto checked = [](std::vector<std::string> items) {
        for (const auto& item : items) parse_host_port(item);  // throws ConfigError naming it
        return items;
    };
    Syntax<std::vector<std::string>> s = names();
    s.parse = [checked](std::string_view text) { return checked(split_list(text)); };
    s.parse_items = [checked](const std::vector<std::string>& items) {
        return checked(trimmed_items(items));
    };
    s.from_json = [checked](const json& j) {
        try {
            return checked(trimmed_items(json_strings(j)));
        } catch (const ConfigError&) {
            throw BadSettingValue("must be an array of \"HOST:PORT\" strings");
        }
    };
    return s;
}

Syntax<std::vector<std::filesystem::path>> absolute_dirs() {
    Syntax<std::vector<std::filesystem::path>> s;
    s.parse = [](std::string_view text) { return checked_absolute(split_list(text)); };
    s.parse_items = [](const std::vector<std::string>& items) {
        return checked_absolute(trimmed_items(items));
    };
    s.format = join<std::filesystem::path>;
    s.to_json = [](const std::vector<std::filesystem::path>& v) {
        json out = json::array();
        for (const auto& p : v) out.push_back(p.string());
        return out;
    };
    s.from_json = [](const json& j) {
        try {
            return checked_absolute(trimmed_items(json_strings(j)));
        } catch (const ConfigError&) {
            throw BadSettingValue("must be an array of absolute paths");
        }
    };
    return s;
}

// -- the table, type-erased -----------------------------------------------------------------------

namespace {

template <typename T>
void add_engine_side(Setting& out, const Row<T>& row, T DaemonConfig::*field) {
    if (!row.engine_set) return;
    auto set = row.engine_set;
    auto get = row.engine_get;
    auto syntax = row.value_syntax;
    out.to_engine = [=](SessionSettings& s, const DaemonConfig& c) { set(s, c.*field); };
    out.get_json = [=](const SessionSettings& s) { return syntax.to_json(get(s)); };
    out.set_json = [=, name = out.name](SessionSettings& s, const json& j) {
        try {
            set(s, syntax.from_json(j));
        } catch (const BadSettingValue& e) {
            throw BadSettingValue(name + " " + e.what());
        }
    };
}

template <typename T>
Setting make_setting(std::string name, std::optional<T> ConfigValues::*value,
                     T DaemonConfig::*field, const Row<T>& row) {
    Setting out;
    out.name = std::move(name);
    out.sources = row.sources;
    out.reloadable = row.reloadable;
    out.hidden = row.hidden;
    out.flag = row.flag_name;
    out.value_name = row.value_name;
    out.help = row.help_text;
    out.range = row.value_syntax.range;
    auto syntax = row.value_syntax;
    out.default_text = syntax.format(DaemonConfig().*field);
    out.set_text = [=](ConfigValues& v, std::string_view text) { v.*value = syntax.parse(text); };
    if (syntax.parse_items)
        out.set_items = [=](ConfigValues& v, const std::vector<std::string>& items) {
            v.*value = syntax.parse_items(items);
        };
    out.take = [=](ConfigValues& v, const ConfigValues& higher) {
        if (higher.*value) v.*value = higher.*value;
    };
    out.resolve = [=](DaemonConfig& c, const ConfigValues& v) {
        if (v.*value) c.*field = *(v.*value);
    };
    out.describe = [=](const DaemonConfig& c) { return syntax.format(c.*field); };
    out.keep = [=](DaemonConfig& c, const DaemonConfig& old) { c.*field = old.*field; };
    add_engine_side(out, row, field);
    return out;
}

// Each row of settings_table.hpp becomes one make_setting call. `details` is a chain of member
// calls (.range(...).help(...)) appended to the row, so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BTD_MAKE_SETTING(type, name, default_value, details) \
    make_setting<type>(#name, &ConfigValues::name, &DaemonConfig::name, Row<type>() details),
// NOLINTEND(bugprone-macro-parentheses)

std::vector<Setting> build_table() {
    return {BTD_SETTINGS(BTD_MAKE_SETTING)};
}

#undef BTD_MAKE_SETTING

}  // namespace

const std::vector<Setting>& settings() {
    static const std::vector<Setting> kTable = build_table();
    return kTable;
}

const Setting* find_setting(std::string_view name) {
    for (const auto& s : settings())
        if (s.name == name) return &s;
    return nullptr;
}

// -- RPC and settings.json ------------------------------------------------------------------------

json rpc_settings(const SessionSettings& s) {
    json out = json::object();
    for (const auto& setting : settings())
        if (setting.from(kRpc) && setting.in_engine()) out[setting.name] = setting.get_json(s);
    return out;
}

SessionSettings apply_rpc_settings(const json& params, SessionSettings current) {
    for (const auto& [key, value] : params.items()) {
        const auto* setting = find_setting(key);
        if (setting && setting->from(kRpc) && setting->in_engine()) continue;
        std::string expected;
        for (const auto& s : settings())
            if (s.from(kRpc)) expected += (expected.empty() ? "" : ", ") + s.name;
        throw BadSettingValue("unknown param '" + key + "' (expected: " + expected + ")");
    }
    // On a throw the caller keeps its settings: nothing is half-applied.
    for (const auto& [key, value] : params.items())
        if (!value.is_null()) find_setting(key)->set_json(current, value);
    return current;
}

}  // namespace btd::daemon
