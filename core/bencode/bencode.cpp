#include "core/bencode/bencode.hpp"

#include <cstdint>
#include <limits>
#include <utility>

namespace btd::bencode {

DecodeError::DecodeError(const std::string& what, std::size_t offset)
    : std::runtime_error("bencode: " + what + " at offset " + std::to_string(offset)),
      offset_(offset) {}

const Value* Value::find(std::string_view key) const {
    const auto* dict = std::get_if<Dict>(&data);
    if (!dict) return nullptr;
    auto it = dict->find(key);
    return it == dict->end() ? nullptr : &it->second;
}

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Recursive descent; recursion depth is bounded by Limits::max_depth, checked before descending.
class Decoder {
  public:
    Decoder(std::string_view in, const Limits& limits) : in_(in), limits_(limits) {
        if (in_.size() > limits_.max_input)
            throw DecodeError("input of " + std::to_string(in_.size()) +
                                  " bytes exceeds the limit of " +
                                  std::to_string(limits_.max_input),
                              0);
    }

    Value parse_value(std::size_t depth) {
        if (pos_ >= in_.size())
            throw DecodeError("unexpected end of input, expected a value", pos_);
        if (++items_ > limits_.max_items)
            throw DecodeError(
                "document has more than " + std::to_string(limits_.max_items) + " values", pos_);
        Value v;
        v.span_begin = pos_;
        const char c = in_[pos_];
        if (c == 'i') {
            v.data = parse_int();
        } else if (is_digit(c)) {
            v.data = parse_string();
        } else if (c == 'l' || c == 'd') {
            if (depth >= limits_.max_depth)
                throw DecodeError(
                    "nesting deeper than " + std::to_string(limits_.max_depth) + " levels", pos_);
            if (c == 'l')
                v.data = parse_list(depth + 1);
            else
                v.data = parse_dict(depth + 1);
        } else {
            throw DecodeError("unexpected byte, expected 'i', 'l', 'd' or a string length", pos_);
        }
        v.span_end = pos_;
        return v;
    }

    std::size_t pos() const { return pos_; }

  private:
    // Error messages name a position, never input bytes: the input may be a file the caller
    // had no right to show (torrent.add {path}), and the offset says where the problem is.
    std::int64_t parse_int() {
        const std::size_t start = pos_;
        ++pos_;  // 'i'
        bool negative = false;
        if (pos_ < in_.size() && in_[pos_] == '-') {
            negative = true;
            ++pos_;
        }
        const std::size_t digits_begin = pos_;
        // Magnitude limit: |INT64_MIN| for negatives, INT64_MAX otherwise.
        const std::uint64_t max_magnitude =
            negative ? std::uint64_t{1} << 63
                     : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        std::uint64_t magnitude = 0;
        while (pos_ < in_.size() && is_digit(in_[pos_])) {
            const auto d = static_cast<std::uint64_t>(in_[pos_] - '0');
            if (magnitude > (max_magnitude - d) / 10)
                throw DecodeError("integer does not fit in 64 bits", start);
            magnitude = magnitude * 10 + d;
            ++pos_;
        }
        const std::size_t ndigits = pos_ - digits_begin;
        if (pos_ >= in_.size()) throw DecodeError("unterminated integer", start);
        if (ndigits == 0) throw DecodeError("integer has no digits", start);
        if (in_[pos_] != 'e') throw DecodeError("unexpected byte in integer", pos_);
        if (ndigits > 1 && in_[digits_begin] == '0')
            throw DecodeError("integer has a leading zero", start);
        if (negative && magnitude == 0) throw DecodeError("negative zero integer", start);
        ++pos_;                                                         // 'e'
        if (negative) return static_cast<std::int64_t>(0 - magnitude);  // wraps to INT64_MIN ok
        return static_cast<std::int64_t>(magnitude);
    }

    std::string parse_string() {
        const std::size_t start = pos_;
        std::size_t length = 0;
        while (pos_ < in_.size() && is_digit(in_[pos_])) {
            const auto d = static_cast<std::size_t>(in_[pos_] - '0');
            length = length * 10 + d;
            // Any length beyond the input is invalid anyway; stopping here also rules out overflow.
            if (length > in_.size())
                throw DecodeError("string length exceeds the remaining input", start);
            ++pos_;
        }
        if (pos_ - start > 1 && in_[start] == '0')
            throw DecodeError("string length has a leading zero", start);
        if (pos_ >= in_.size() || in_[pos_] != ':')
            throw DecodeError("expected ':' after string length", pos_);
        ++pos_;  // ':'
        if (length > in_.size() - pos_)
            throw DecodeError("string length " + std::to_string(length) + " exceeds the " +
                                  std::to_string(in_.size() - pos_) + " remaining bytes",
                              start);
        std::string s(in_.substr(pos_, length));
        pos_ += length;
        return s;
    }

    List parse_list(std::size_t depth) {
        const std::size_t start = pos_;
        ++pos_;  // 'l'
        List list;
        while (true) {
            if (pos_ >= in_.size()) throw DecodeError("unterminated list", start);
            if (in_[pos_] == 'e') break;
            list.push_back(parse_value(depth));
        }
        ++pos_;  // 'e'
        return list;
    }

    Dict parse_dict(std::size_t depth) {
        const std::size_t start = pos_;
        ++pos_;  // 'd'
        Dict dict;
        const std::string* previous_key = nullptr;
        while (true) {
            if (pos_ >= in_.size()) throw DecodeError("unterminated dictionary", start);
            if (in_[pos_] == 'e') break;
            const std::size_t key_pos = pos_;
            if (!is_digit(in_[pos_])) throw DecodeError("dictionary key must be a string", pos_);
            if (++items_ > limits_.max_items)
                throw DecodeError(
                    "document has more than " + std::to_string(limits_.max_items) + " values",
                    pos_);
            std::string key = parse_string();
            if (previous_key) {
                // std::string compares bytes as unsigned char, matching the raw-byte order of
                // BEP 3.
                if (key == *previous_key) throw DecodeError("duplicate dictionary key", key_pos);
                if (key < *previous_key)
                    throw DecodeError("dictionary keys are not in sorted order", key_pos);
            }
            if (pos_ >= in_.size() || in_[pos_] == 'e')
                throw DecodeError("missing value for a dictionary key", pos_);
            Value value = parse_value(depth);
            auto it = dict.emplace_hint(dict.end(), std::move(key), std::move(value));
            previous_key = &it->first;
        }
        ++pos_;  // 'e'
        return dict;
    }

    std::string_view in_;
    const Limits& limits_;
    std::size_t pos_ = 0;
    std::size_t items_ = 0;
};

void encode_into(std::string& out, const Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v.data)) {
        out += 'i';
        out += std::to_string(*i);
        out += 'e';
    } else if (const auto* s = std::get_if<std::string>(&v.data)) {
        out += std::to_string(s->size());
        out += ':';
        out += *s;
    } else if (const auto* l = std::get_if<List>(&v.data)) {
        out += 'l';
        for (const auto& item : *l) encode_into(out, item);
        out += 'e';
    } else {
        out += 'd';
        for (const auto& [key, value] : std::get<Dict>(v.data)) {  // std::map: already sorted
            out += std::to_string(key.size());
            out += ':';
            out += key;
            encode_into(out, value);
        }
        out += 'e';
    }
}

}  // namespace

Value decode(std::string_view input, const Limits& limits) {
    Decoder d(input, limits);
    Value v = d.parse_value(0);
    if (d.pos() != input.size())
        throw DecodeError(
            std::to_string(input.size() - d.pos()) + " bytes of trailing data after the value",
            d.pos());
    return v;
}

Value decode_prefix(std::string_view input, std::size_t& consumed, const Limits& limits) {
    Decoder d(input, limits);
    Value v = d.parse_value(0);
    consumed = d.pos();
    return v;
}

std::string encode(const Value& v) {
    std::string out;
    encode_into(out, v);
    return out;
}

Value make_int(std::int64_t v) {
    return Value{v};
}
Value make_string(std::string v) {
    return Value{std::move(v)};
}
Value make_list(List v) {
    return Value{std::move(v)};
}
Value make_dict(Dict v) {
    return Value{std::move(v)};
}

}  // namespace btd::bencode
