#pragma once
// ASCII-only case folding and trimming for protocol tokens (URL schemes, hosts, header values,
// config words); locale-independent on purpose.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace btd {

inline char ascii_lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

inline bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(),
                      [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
}

// Without leading and trailing spaces, tabs and carriage returns (config lines, header values).
inline std::string_view trim_blanks(std::string_view s) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace btd
