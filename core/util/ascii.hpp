#pragma once
// ASCII-only case folding for protocol tokens (URL schemes, hosts, header values, config words);
// locale-independent on purpose.
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

}  // namespace btd
