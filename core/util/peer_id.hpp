#pragma once
// Our peer id's Azureus-style prefix, made from kClientVersion at compile time.
#include <algorithm>
#include <array>
#include <string_view>

#include "core/util/hash.hpp"

namespace btd {

// "-BDabcd-": one character per version part (major, minor, patch, build; 0-9, then A-Z for
// 10-35), the way peer-id parsers read it, so 0.1.0 is "-BD0100-" (read as 0.1.0.0; "-BD0010-"
// would read as 0.0.1.0). Missing parts are 0, parts beyond four are dropped, larger ones read
// as 'Z'.
constexpr std::array<char, 8> azureus_prefix(std::string_view version) {
    std::array<char, 8> out{'-', 'B', 'D', '0', '0', '0', '0', '-'};
    int part = 0, value = 0;
    auto put = [&] {
        if (part < 4)
            out[3 + part] =
                static_cast<char>(value < 10 ? '0' + value : 'A' + std::min(value, 35) - 10);
        ++part;
        value = 0;
    };
    for (char c : version) {
        if (c == '.')
            put();
        else if (c >= '0' && c <= '9')
            value = std::min(value * 10 + (c - '0'), 1000);
    }
    put();
    return out;
}

// What make_peer_id() puts before its 12 random bytes.
inline constexpr std::array<char, 8> kPeerIdPrefix = azureus_prefix(kClientVersion);

}  // namespace btd
