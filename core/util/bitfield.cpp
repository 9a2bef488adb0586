#include "core/util/bitfield.hpp"

#include <bit>

namespace btd {

void Bitfield::set_all() {
    for (std::size_t i = 0; i < size_; ++i) set(i);
}

bool Bitfield::assign_wire(std::string_view data) {
    if (data.size() != bytes_.size()) return false;
    std::size_t spare = bytes_.size() * 8 - size_;
    if (spare > 0) {
        auto last = static_cast<std::uint8_t>(data.back());
        if (last & ((1u << spare) - 1)) return false;
    }
    count_ = 0;
    for (std::size_t i = 0; i < bytes_.size(); ++i) {
        bytes_[i] = static_cast<std::uint8_t>(data[i]);
        count_ += std::popcount(bytes_[i]);
    }
    return true;
}

std::string Bitfield::to_string() const {
    std::string s(size_, '0');
    for (std::size_t i = 0; i < size_; ++i)
        if (test(i)) s[i] = '1';
    return s;
}

bool Bitfield::from_string(std::string_view s) {
    if (s.size() != size_) return false;
    for (std::size_t i = 0; i < size_; ++i) {
        if (s[i] == '1')
            set(i);
        else if (s[i] == '0')
            reset(i);
        else
            return false;
    }
    return true;
}

}  // namespace btd
