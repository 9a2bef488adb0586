#pragma once
// Strict, bounded bencode (BEP 3). decode() keeps each value's byte span in the input so the
// info-hash can be taken over the original bytes.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace btd::bencode {

struct Value;
using List = std::vector<Value>;
using Dict = std::map<std::string, Value, std::less<>>;  // keys sorted as the encoding requires

struct Value {
    std::variant<std::int64_t, std::string, List, Dict> data;
    std::size_t span_begin = 0;  // byte offsets of this value in the decoded input
    std::size_t span_end = 0;

    bool is_int() const { return std::holds_alternative<std::int64_t>(data); }
    bool is_string() const { return std::holds_alternative<std::string>(data); }
    bool is_list() const { return std::holds_alternative<List>(data); }
    bool is_dict() const { return std::holds_alternative<Dict>(data); }
    std::int64_t as_int() const { return std::get<std::int64_t>(data); }
    const std::string& as_string() const { return std::get<std::string>(data); }
    const List& as_list() const { return std::get<List>(data); }
    const Dict& as_dict() const { return std::get<Dict>(data); }
    // Dict lookup; nullptr if this is not a dict or the key is absent.
    const Value* find(std::string_view key) const;
};

struct Limits {
    std::size_t max_depth = 64;
    std::size_t max_input = 64 * 1024 * 1024;
    std::size_t max_items = 4 * 1024 * 1024;  // total values in the document
};

class DecodeError : public std::runtime_error {
  public:
    DecodeError(const std::string& what, std::size_t offset);
    std::size_t offset() const { return offset_; }

  private:
    std::size_t offset_;
};

// Decodes exactly one value spanning the whole input; throws DecodeError otherwise.
Value decode(std::string_view input, const Limits& limits = {});
// Decodes one value at the front of input and reports how many bytes it used (for UDP/ext msgs).
Value decode_prefix(std::string_view input, std::size_t& consumed, const Limits& limits = {});

std::string encode(const Value& v);

// Convenience constructors for building messages.
Value make_int(std::int64_t v);
Value make_string(std::string v);
Value make_list(List v);
Value make_dict(Dict v);

}  // namespace btd::bencode
