// libFuzzer target: the bencode decoder (core/bencode). Whatever decodes must encode back to the
// same bytes (the encoding is canonical), and every span must lie inside the input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/bencode/bencode.hpp"

namespace {

void check_spans(const btd::bencode::Value& v, std::size_t input_size) {
    if (v.span_begin > v.span_end || v.span_end > input_size) std::abort();
    if (v.is_list())
        for (auto& item : v.as_list()) check_spans(item, input_size);
    if (v.is_dict())
        for (auto& [key, item] : v.as_dict()) check_spans(item, input_size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    btd::bencode::Limits limits;
    limits.max_items = 64 * 1024;  // keeps one input's work small; the rule is the same
    try {
        auto value = btd::bencode::decode(input, limits);
        check_spans(value, size);
        if (btd::bencode::encode(value) != input) std::abort();  // strict decode => round trip
    } catch (const btd::bencode::DecodeError&) {
    }
    try {
        std::size_t consumed = 0;
        auto value = btd::bencode::decode_prefix(input, consumed, limits);
        if (consumed == 0 || consumed > size) std::abort();
        check_spans(value, size);
    } catch (const btd::bencode::DecodeError&) {
    }
    return 0;
}
