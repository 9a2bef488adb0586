#include "rpc/methods/json_writer.hpp"

#include <charconv>
#include <cmath>

namespace btd::rpc {
namespace {

// The UTF-8 sequence at the start of `s`: its length and whether it is valid. An invalid one is
// its longest valid beginning (at least one byte), replaced by one U+FFFD as nlohmann does.
struct Utf8Sequence {
    std::size_t length;
    bool valid;
};

Utf8Sequence utf8_sequence(std::string_view s) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char lead = byte(0);
    std::size_t n;
    unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
    if (lead < 0x80) return {1, true};
    if (lead >= 0xc2 && lead <= 0xdf) {
        n = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        n = 3;
        if (lead == 0xe0) low = 0xa0;   // overlong
        if (lead == 0xed) high = 0x9f;  // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        n = 4;
        if (lead == 0xf0) low = 0x90;   // overlong
        if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
    } else {
        return {1, false};
    }
    for (std::size_t i = 1; i < n; ++i) {
        bool fits =
            i < s.size() && byte(i) >= (i == 1 ? low : 0x80) && byte(i) <= (i == 1 ? high : 0xbf);
        if (!fits) return {i, false};
    }
    return {n, true};
}

void append_escaped_control(std::string& out, unsigned char c) {
    switch (c) {
        case '\b':
            out += "\\b";
            return;
        case '\t':
            out += "\\t";
            return;
        case '\n':
            out += "\\n";
            return;
        case '\f':
            out += "\\f";
            return;
        case '\r':
            out += "\\r";
            return;
        default:
            break;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
}

}  // namespace

void append_json_string(std::string& out, std::string_view value) {
    out += '"';
    std::size_t i = 0;
    while (i < value.size()) {
        // Printable ASCII needing no escape goes in as one run (most names, every hex id).
        auto run = i;
        while (run < value.size() && value[run] >= 0x20 && value[run] < 0x7f && value[run] != '"' &&
               value[run] != '\\')
            ++run;
        if (run > i) {
            out.append(value.data() + i, run - i);
            i = run;
            continue;
        }
        auto c = static_cast<unsigned char>(value[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20) {
            append_escaped_control(out, c);
            ++i;
        } else {
            auto seq = utf8_sequence(value.substr(i));
            if (seq.valid)
                out.append(value.data() + i, seq.length);
            else
                out += "\xef\xbf\xbd";  // U+FFFD
            i += seq.length;
        }
    }
    out += '"';
}

void append_json_number(std::string& out, std::int64_t value) {
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    out.append(buf, end);
}

void append_json_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    char buf[32];
    auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;  // shortest round-trip form
    std::string_view text(buf, static_cast<std::size_t>(end - buf));
    out += text;
    if (text.find_first_of(".e") == std::string_view::npos) out += ".0";  // stays a float
}

}  // namespace btd::rpc
