#include "core/session/labels.hpp"

#include <algorithm>
#include <cstdint>

#include "core/session/types.hpp"

namespace btd {
namespace {

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): labels go
// into JSON, which cannot carry anything else.
bool valid_utf8(const std::string& s) {
    static constexpr std::uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        int extra = c < 0x80           ? 0
                    : (c >> 5) == 0x6  ? 1
                    : (c >> 4) == 0xE  ? 2
                    : (c >> 3) == 0x1E ? 3
                                       : -1;
        if (extra < 0 || s.size() - i <= static_cast<std::size_t>(extra)) return false;
        std::uint32_t cp = extra == 0 ? c : c & (0x3F >> extra);
        for (int k = 1; k <= extra; ++k) {
            auto next = static_cast<unsigned char>(s[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (next & 0x3F);
        }
        if (cp < kMinimum[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += static_cast<std::size_t>(extra) + 1;
    }
    return true;
}

void check_label(const std::string& label) {
    auto fail = [&](const std::string& why) {
        throw SessionError(SessionError::Code::invalid_argument, "label '" + label + "' " + why);
    };
    if (label.empty()) throw SessionError(SessionError::Code::invalid_argument, "a label is empty");
    if (!valid_utf8(label))
        throw SessionError(SessionError::Code::invalid_argument, "a label is not valid UTF-8");
    if (label.size() > kMaxLabelLength)
        fail("is longer than " + std::to_string(kMaxLabelLength) + " bytes");
    if (label.find(',') != std::string::npos) fail("has a comma (clients join labels with commas)");
    if (std::any_of(label.begin(), label.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
        fail("has a control character");
}

}  // namespace

std::vector<std::string> checked_labels(const std::vector<std::string>& labels) {
    std::vector<std::string> out;
    for (auto& label : labels) {
        check_label(label);
        if (std::find(out.begin(), out.end(), label) == out.end()) out.push_back(label);
    }
    if (out.size() > kMaxLabels)
        throw SessionError(SessionError::Code::invalid_argument,
                           "a torrent may have at most " + std::to_string(kMaxLabels) +
                               " labels, not " + std::to_string(out.size()));
    return out;
}

}  // namespace btd
