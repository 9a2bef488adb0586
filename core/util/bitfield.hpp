#pragma once
// A fixed-size set of piece indices, stored MSB-first as on the wire (BEP 3).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace btd {

class Bitfield {
  public:
    Bitfield() = default;
    explicit Bitfield(std::size_t size) : size_(size), bytes_((size + 7) / 8, 0) {}

    std::size_t size() const { return size_; }
    bool test(std::size_t i) const { return (bytes_[i / 8] >> (7 - i % 8)) & 1; }
    void set(std::size_t i) {
        if (!test(i)) ++count_;
        bytes_[i / 8] |= static_cast<std::uint8_t>(0x80u >> (i % 8));
    }
    void reset(std::size_t i) {
        if (test(i)) --count_;
        bytes_[i / 8] &= static_cast<std::uint8_t>(~(0x80u >> (i % 8)));
    }
    void set_all();
    std::size_t count() const { return count_; }
    bool all() const { return count_ == size_; }
    bool none() const { return count_ == 0; }

    const std::vector<std::uint8_t>& bytes() const { return bytes_; }
    std::string_view wire_bytes() const {
        return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
    }
    // Parses a wire bitfield; false if the length is wrong or spare bits are set.
    bool assign_wire(std::string_view data);

    std::string to_string() const;  // '1'/'0' per piece, for debugging and resume files
    bool from_string(std::string_view s);

  private:
    std::size_t size_ = 0;
    std::size_t count_ = 0;
    std::vector<std::uint8_t> bytes_;
};

}  // namespace btd
