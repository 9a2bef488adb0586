// The config file: TOML (toml++), with the old unquoted `key = value` lines still read.
//
// A file that is valid TOML is read as TOML. Otherwise it is read line by line: a line that is
// valid TOML by itself (`rpc_auth = false`, `download_dir = "/srv/a #1"`) is read as TOML, any
// other `key = value` line the old way (text up to an inline comment, unquoted), and the log
// gets one line saying how to write the first such line as TOML. Either way every value goes
// through its setting's text syntax (daemon/settings.cpp): a TOML string is that text, a number
// or boolean its usual spelling, an array the items of a list setting.
#define TOML_HEADER_ONLY 1  // compiled here: no runtime library, and fuzzers instrument it
#define TOML_EXCEPTIONS 0   // parse() returns a result; errors become ConfigError below
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace btd::daemon {
// toml++ 3.3.0 states things about its input as assertions, which a release build turns into
// __builtin_assume and __builtin_unreachable: invalid TOML that breaks one ("[[$", "x=[[}") was
// undefined behaviour (fuzz_config found three once it ran with assertions on). Here each is
// an exception, in every build, caught around every toml::parse and read as a syntax error.
struct TomlAssertion : std::logic_error {
    using std::logic_error::logic_error;
};
[[noreturn]] inline void toml_assertion_failed(const char* what) {
    throw TomlAssertion(what);
}
}  // namespace btd::daemon

#include <toml++/impl/preprocessor.h>  // #pragma once: toml.h keeps the three macros below
#undef TOML_ASSERT
#undef TOML_ASSERT_ASSUME
#undef TOML_UNREACHABLE
#define TOML_ASSERT(expr) \
    ((expr) ? static_cast<void>(0) : ::btd::daemon::toml_assertion_failed("toml++: " #expr))
#define TOML_ASSERT_ASSUME(expr) TOML_ASSERT(expr)
#define TOML_UNREACHABLE ::btd::daemon::toml_assertion_failed("toml++: unreachable")
#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/util/ascii.hpp"
#include "daemon/config.hpp"
#include "daemon/settings.hpp"
#include "rpc/transport/safe_file.hpp"

namespace btd::daemon {

namespace {

// A quoted value: "..." with \" and \\ escapes, then only blanks or a comment.
std::string unquote(std::string_view text) {
    std::string out;
    std::size_t i = 1;
    for (; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\'))
            ++i;
        out.push_back(text[i]);
    }
    if (i >= text.size()) throw ConfigError("missing closing '\"'");
    auto rest = trim_blanks(text.substr(i + 1));
    if (!rest.empty() && rest.front() != '#')
        throw ConfigError("unexpected text after the closing quote: '" + std::string(rest) + "'");
    return out;
}

std::string at(const std::string& source, std::size_t line) {
    return source + ":" + std::to_string(line) + ": ";
}

// toml::parse, with an assertion of toml++'s that the text broke as a parse error.
toml::parse_result parse_toml(std::string_view text, std::string_view source = {}) {
    try {
        return toml::parse(text, source);
    } catch (const TomlAssertion&) {
        return toml::parse_result(toml::parse_error("not valid TOML", toml::source_position{1, 1}));
    }
}

// True if text with bytes >= 0x80 must not reach toml++: one outside a string or comment, a
// multi-line string, or a string unclosed at its line's end or holding a control byte. toml++ 3.3.0
// reaches __builtin_unreachable on such input (is_non_ascii_horizontal_whitespace, found by
// fuzz_config); it is read the old way instead, which reads one-line values only.
bool bare_non_ascii(std::string_view text) {
    // toml++ goes wrong only on bytes >= 0x80: pure ASCII is always safe to give it.
    if (std::none_of(text.begin(), text.end(), [](char c) { return c & 0x80; })) return false;
    // The same text with those bytes made ASCII must be valid TOML: then they stand only where
    // toml++ takes its well-trodden path (inside strings and comments); its error paths are not.
    std::string ascii(text);
    for (char& c : ascii)
        if (c & 0x80) c = 'x';
    if (!parse_toml(ascii)) return true;
    char quote = 0;  // '"' or '\'' inside a string; '#' inside a comment
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            if (quote == '"' || quote == '\'') return true;  // an unclosed string: never TOML
            quote = 0;
        } else if (quote == '#') {
        } else if (quote) {
            if (byte < 0x20 && c != '\t') return true;  // a control byte in a string: never TOML
            if (c == '\\' && quote == '"' && i + 1 < text.size() && text[i + 1] != '\n')
                ++i;
            else if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            if (i + 2 < text.size() && text[i + 1] == c && text[i + 2] == c)
                return true;  // a multi-line string: not followed here, so not given to toml++
            quote = c;
        } else if (c == '#') {
            quote = c;
        } else if (byte >= 0x80) {
            return true;
        }
    }
    return quote == '"' || quote == '\'';
}

// A TOML scalar as the text its setting's syntax reads.
std::string scalar_text(const std::string& key, const toml::node& node) {
    if (const auto* s = node.as_string()) return s->get();
    if (const auto* i = node.as_integer()) return std::to_string(i->get());
    if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
    if (const auto* f = node.as_floating_point()) {
        char text[32];
        auto end = std::to_chars(text, text + sizeof text, f->get()).ptr;
        return std::string(text, end);
    }
    throw ConfigError(key + ": expected a string, number or boolean");
}

void set_from_node(ConfigValues& values, const std::string& key, const toml::node& node) {
    const auto& keys = config_keys();
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
        throw ConfigError("unknown key '" + key + "'");
    if (const auto* array = node.as_array()) {
        std::vector<std::string> items;
        for (const auto& item : *array) {
            const auto* s = item.as_string();
            if (!s) throw ConfigError(key + ": the items of a list are strings in quotes");
            items.push_back(s->get());
        }
        return set_config_items(values, key, items);
    }
    set_config_value(values, key, scalar_text(key, node));
}

// A relative path would depend on the directory btd happens to start in.
void check_download_dir(const ConfigValues& values) {
    if (values.download_dir && values.download_dir->is_relative())
        throw ConfigError("download_dir: '" + values.download_dir->string() +
                          "' is not an absolute path (start it with /)");
}

void set_from_table(ConfigValues& values, const toml::table& table, const std::string& source,
                    std::size_t line) {
    for (const auto& [key, node] : table) {
        auto where = at(source, line ? line : key.source().begin.line);
        try {
            set_from_node(values, std::string(key.str()), node);
            if (key.str() == "download_dir") check_download_dir(values);
        } catch (const ConfigError& e) {
            throw ConfigError(where + e.what());
        }
    }
}

// A TOML basic string: "..." with \\, \" and control characters escaped.
std::string toml_quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// TOML for a legacy value, for the warning: a quoted string, or an array for a list setting.
std::string toml_spelling(std::string_view key, const std::string& text) {
    std::string value;
    const auto* setting = find_setting(key);
    if (setting && setting->is_list()) {
        std::string_view rest = text;
        while (!rest.empty()) {
            auto comma = rest.find(',');
            if (auto item = trim_blanks(rest.substr(0, comma)); !item.empty())
                value += (value.empty() ? "" : ", ") + toml_quoted(item);
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        value = "[" + value + "]";
    } else {
        value = toml_quoted(text);
    }
    return std::string(key) + " = " + value;
}

struct LegacyLines {
    std::size_t count = 0;
    std::string first;  // "btd.conf:3: download_dir = /srv/dl"
    std::string first_as_toml;
};

void set_legacy_line(ConfigValues& values, std::string_view line, const std::string& where,
                     LegacyLines& legacy) {
    auto eq = line.find('=');
    if (eq == std::string_view::npos)
        throw ConfigError(where + "expected 'key = value', got '" + std::string(line) + "'");
    try {
        auto key = trim_blanks(line.substr(0, eq));
        auto text = config_value_text(line.substr(eq + 1));
        set_config_value(values, key, text);
        if (key == "download_dir") check_download_dir(values);
        if (legacy.count++ == 0) {
            legacy.first = where + std::string(line);
            legacy.first_as_toml = toml_spelling(key, text);
        }
    } catch (const ConfigError& e) {
        throw ConfigError(where + e.what());
    }
}

// The file is not TOML as a whole: each line on its own, TOML where it is.
ConfigFileText parse_by_line(std::string_view text, const std::string& source,
                             const std::optional<toml::parse_error>& whole_file_error) {
    ConfigFileText out;
    LegacyLines legacy;
    std::size_t line_no = 0, pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        auto line = trim_blanks(text.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
        ++line_no;
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        if (line.empty() || line.front() == '#') continue;
        auto parsed = bare_non_ascii(line) ? toml::parse_result{} : parse_toml(line);
        if (parsed && parsed.table().size() == 1)
            set_from_table(out.values, parsed.table(), source, line_no);
        else
            set_legacy_line(out.values, line, at(source, line_no), legacy);
    }
    // Every line is TOML but the whole is not (a key twice, an array over several lines).
    if (legacy.count == 0 && whole_file_error)
        throw ConfigError(at(source, whole_file_error->source().begin.line) +
                          std::string(whole_file_error->description()));
    if (legacy.count == 0) return out;
    out.legacy_warning =
        legacy.first + ": not TOML, read the old way (" + std::to_string(legacy.count) +
        " such line" + (legacy.count == 1 ? "" : "s") +
        "); to migrate, quote text values as in btd.conf(5): " + legacy.first_as_toml;
    return out;
}

}  // namespace

std::string config_value_text(std::string_view raw) {
    auto text = trim_blanks(raw);
    if (!text.empty() && text.front() == '"') return unquote(text);
    // A '#' at the start or after a blank begins a comment; "a#b" stays a value.
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t'))
            return std::string(trim_blanks(text.substr(0, i)));
    return std::string(text);
}

ConfigFileText parse_config_file_text(std::string_view text, const std::string& source) {
    if (bare_non_ascii(text)) return parse_by_line(text, source, std::nullopt);
    auto parsed = parse_toml(text, source);
    if (!parsed) return parse_by_line(text, source, parsed.error());
    ConfigFileText out;
    set_from_table(out.values, parsed.table(), source, 0);
    return out;
}

ConfigValues parse_config_text(std::string_view text, const std::string& source) {
    return parse_config_file_text(text, source).values;
}

ConfigValues load_config_file(const std::filesystem::path& file) {
    constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
    std::string text;
    try {
        // Bounded, and a FIFO or device given as --config cannot hang the start.
        text = rpc::read_regular_file(file, kMaxConfigBytes, /*follow_symlinks=*/true);
    } catch (const rpc::StateFileError& e) {
        throw ConfigError(std::string("cannot read config file ") + e.what());
    }
    auto parsed = parse_config_file_text(text, file.string());
    if (parsed.legacy_warning) spdlog::warn("{}", *parsed.legacy_warning);
    return std::move(parsed.values);
}

}  // namespace btd::daemon
