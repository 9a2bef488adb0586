#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "core/bencode/bencode.hpp"

using namespace btd::bencode;
using namespace std::string_literals;

namespace {

// Offset of the DecodeError thrown for `input`; fails the test if nothing is thrown.
std::size_t error_offset(std::string_view input, const Limits& limits = {}) {
    try {
        decode(input, limits);
    } catch (const DecodeError& e) {
        return e.offset();
    }
    FAIL("expected DecodeError for: " << std::string(input));
    return 0;
}

std::string error_message(std::string_view input) {
    try {
        decode(input);
    } catch (const DecodeError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("decode integers") {
    CHECK(decode("i0e").as_int() == 0);
    CHECK(decode("i42e").as_int() == 42);
    CHECK(decode("i-42e").as_int() == -42);
    CHECK(decode("i9223372036854775807e").as_int() == std::numeric_limits<std::int64_t>::max());
    CHECK(decode("i-9223372036854775808e").as_int() == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("non-canonical or malformed integers are rejected") {
    for (const char* bad :
         {"ie", "i-e", "i-0e", "i00e", "i01e", "i-01e", "i1", "i", "i1x2e", "i+1e", "i 1e",
          "i9223372036854775808e", "i-9223372036854775809e", "i99999999999999999999999e"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(decode(bad), DecodeError);
    }
    CHECK(error_message("i-0e").find("negative zero") != std::string::npos);
    CHECK(error_message("i01e").find("leading zero") != std::string::npos);
    CHECK(error_message("i9223372036854775808e").find("64 bits") != std::string::npos);
    CHECK(error_offset("l i1e") == 1);
    CHECK(error_offset("li1xe") == 3);
}

TEST_CASE("decode strings") {
    CHECK(decode("0:").as_string().empty());
    CHECK(decode("4:spam").as_string() == "spam");
    const std::string binary("3:\0\xff\n", 5);
    CHECK(decode(binary).as_string() == std::string("\0\xff\n", 3));
}

TEST_CASE("malformed strings are rejected with offsets") {
    CHECK_THROWS_AS(decode("5:spam"), DecodeError);
    CHECK_THROWS_AS(decode("04:spam"), DecodeError);
    CHECK_THROWS_AS(decode("4spam"), DecodeError);
    CHECK_THROWS_AS(decode("4"), DecodeError);
    CHECK(error_offset("5:spam") == 0);
    // "d3:key", a list, then a string length "1" not followed by a colon at offset 8
    CHECK(error_offset("d3:keyl1xe") == 8);
    CHECK(error_message("d3:keyl1xe") == "bencode: expected ':' after string length at offset 8");
}

TEST_CASE("huge string length claim fails without allocating") {
    CHECK_THROWS_AS(decode("99999999999999999999999999999999:x"), DecodeError);
    CHECK_THROWS_AS(decode("4294967296:x"), DecodeError);
    CHECK_THROWS_AS(decode("18446744073709551617:abc"), DecodeError);
    CHECK(error_offset("l1000000:abce") == 1);
}

TEST_CASE("lists and dicts") {
    Value v = decode("l4:spami7ee");
    REQUIRE(v.is_list());
    REQUIRE(v.as_list().size() == 2);
    CHECK(v.as_list()[0].as_string() == "spam");
    CHECK(v.as_list()[1].as_int() == 7);

    Value d = decode("d3:bar4:spam3:fooi42ee");
    REQUIRE(d.is_dict());
    REQUIRE(d.find("foo"));
    CHECK(d.find("foo")->as_int() == 42);
    CHECK(d.find("bar")->as_string() == "spam");
    CHECK(d.find("baz") == nullptr);
    CHECK(v.find("foo") == nullptr);  // not a dict

    CHECK(decode("le").as_list().empty());
    CHECK(decode("de").as_dict().empty());
}

TEST_CASE("dict rules: string keys, sorted, unique, value present") {
    CHECK_THROWS_AS(decode("di1ei2ee"), DecodeError);      // integer key
    CHECK_THROWS_AS(decode("dle1:ae"), DecodeError);       // list key
    CHECK_THROWS_AS(decode("d1:b0:1:a0:e"), DecodeError);  // unsorted
    CHECK_THROWS_AS(decode("d1:a0:1:a0:e"), DecodeError);  // duplicate
    CHECK_THROWS_AS(decode("d1:ae"), DecodeError);         // missing value
    CHECK_THROWS_AS(decode("d1:a"), DecodeError);          // truncated
    CHECK_THROWS_AS(decode("d1:ai1e"), DecodeError);       // unterminated
    CHECK(error_offset("d1:b0:1:a0:e") == 6);
    CHECK(error_offset("d1:a0:1:a0:e") == 6);
    CHECK(error_message("d1:b0:1:a0:e").find("sorted") != std::string::npos);
    CHECK(error_message("d1:a0:1:a0:e").find("duplicate") != std::string::npos);
    CHECK(error_offset("di1ei2ee") == 1);
    // Raw byte order: 0xff sorts after 'z', shorter prefix first.
    CHECK_NOTHROW(
        decode("d1:a0:2:aa0:1:z0:1:\xff"
               "0:e"));
    CHECK_THROWS_AS(decode("d2:aa0:1:a0:e"), DecodeError);
}

TEST_CASE("trailing data, empty input and junk") {
    CHECK_THROWS_AS(decode(""), DecodeError);
    CHECK(error_offset("i1ei2e") == 3);
    CHECK(error_message("i1ei2e").find("trailing") != std::string::npos);
    CHECK_THROWS_AS(decode("x"), DecodeError);
    CHECK_THROWS_AS(decode("e"), DecodeError);
    CHECK_THROWS_AS(decode("l"), DecodeError);
}

TEST_CASE("decode_prefix reports consumed bytes") {
    std::size_t consumed = 0;
    Value v = decode_prefix("d1:ai1ee<payload>", consumed);
    CHECK(consumed == 8);
    CHECK(v.find("a")->as_int() == 1);
    CHECK_THROWS_AS(decode_prefix("d1:ai1e", consumed), DecodeError);
}

TEST_CASE("spans point at the original bytes") {
    const std::string in = "d4:infod4:name1:xe5:otheri3ee";
    Value v = decode(in);
    CHECK(v.span_begin == 0);
    CHECK(v.span_end == in.size());
    const Value* info = v.find("info");
    REQUIRE(info);
    CHECK(in.substr(info->span_begin, info->span_end - info->span_begin) == "d4:name1:xe");
    const Value* other = v.find("other");
    CHECK(in.substr(other->span_begin, other->span_end - other->span_begin) == "i3e");
}

TEST_CASE("depth limit") {
    Limits limits;
    limits.max_depth = 64;
    std::string ok = std::string(64, 'l') + std::string(64, 'e');
    CHECK_NOTHROW(decode(ok, limits));
    std::string too_deep = std::string(65, 'l') + std::string(65, 'e');
    CHECK(error_offset(too_deep, limits) == 64);
    // A hostile nesting far beyond the limit is rejected without deep recursion.
    std::string hostile(1000000, 'l');
    CHECK_THROWS_AS(decode(hostile), DecodeError);
    std::string hostile_dicts;
    for (int i = 0; i < 100000; ++i) hostile_dicts += "d1:a";
    CHECK_THROWS_AS(decode(hostile_dicts), DecodeError);
}

TEST_CASE("input and item limits") {
    Limits limits;
    limits.max_input = 10;
    CHECK_THROWS_AS(decode("11:hello world", limits), DecodeError);
    CHECK_NOTHROW(decode("5:hello", limits));
    Limits items;
    items.max_items = 3;
    CHECK_NOTHROW(decode("li1ei2ee", items));
    CHECK_THROWS_AS(decode("li1ei2ei3ee", items), DecodeError);
}

TEST_CASE("encode is canonical and round-trips") {
    Dict d;
    d["zeta"] = make_int(-5);
    d["alpha"] = make_list({make_string("x"), make_int(0), make_dict({})});
    d[std::string("\xff", 1)] = make_string(std::string("\0a", 2));
    const std::string enc = encode(make_dict(d));
    CHECK(enc ==
          "d5:alphal1:xi0edee4:zetai-5e1:\xff"
          "2:\0ae"s);
    CHECK(encode(decode(enc)) == enc);
    CHECK(encode(make_int(std::numeric_limits<std::int64_t>::min())) == "i-9223372036854775808e");

    for (const char* canonical :
         {"i0e", "0:", "le", "de", "d1:ad1:bl1:ci-1eeee", "l0:0:0:e", "d3:bar4:spam3:fooi42ee",
          "li9223372036854775807ei-9223372036854775808ee"}) {
        CAPTURE(canonical);
        CHECK(encode(decode(canonical)) == canonical);
    }
}

TEST_CASE("fuzz: mutated inputs either decode or throw DecodeError") {
    const std::string seeds[] = {
        "d8:announce30:http://127.0.0.1:6969/announce4:infod6:lengthi40000e4:name4:file"
        "12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
        "d1:ad1:bl1:ci-1eeee",
        "li9223372036854775807ei-9223372036854775808e0:3:abcdee",
        "d5:filesld6:lengthi1e4:pathl1:aeed6:lengthi2e4:pathl1:b1:ceeee",
    };
    std::mt19937 rng(20240601);  // fixed seed: reproducible
    const std::string alphabet = "0123456789ilde:-x";
    Limits limits;
    limits.max_depth = 16;
    int decoded = 0, rejected = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::string s = seeds[iter % std::size(seeds)];
        const int mutations = 1 + static_cast<int>(rng() % 4);
        for (int m = 0; m < mutations && !s.empty(); ++m) {
            const std::size_t pos = rng() % s.size();
            switch (rng() % 5) {
                case 0:
                    s[pos] = static_cast<char>(rng() & 0xff);
                    break;
                case 1:
                    s[pos] = alphabet[rng() % alphabet.size()];
                    break;
                case 2:
                    s.erase(pos, 1 + rng() % 3);
                    break;
                case 3:
                    s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
                    break;
                case 4:
                    s.resize(pos);
                    break;
            }
        }
        try {
            Value v = decode(s, limits);
            // Whatever decodes must re-encode to the very same bytes (strict = canonical).
            CHECK(encode(v) == s);
            ++decoded;
        } catch (const DecodeError& e) {
            CHECK(e.offset() <= s.size());
            ++rejected;
        }
    }
    CHECK(decoded > 0);
    CHECK(rejected > 0);
    MESSAGE("fuzz: decoded " << decoded << ", rejected " << rejected);
}

TEST_CASE("error messages name a position, never input bytes") {
    // A file that is not bencode (e.g. one torrent.add {path} was pointed at) must not have its
    // bytes echoed to the caller through the error.
    for (std::string input :
         {std::string("root:SECRET"), std::string("d3:keyl1Xe"),
          std::string("d5:zzzzz1:a5:aaaaa1:be"), std::string("i12Qe"),
          std::string("d5:dupkk1:a5:dupkk1:be"), std::string("d5:hello"), std::string("di1e1:ae"),
          std::string("\x7f"
                      "ELF")}) {
        CAPTURE(input);
        auto message = error_message(input);
        CHECK(message.find("at offset") != std::string::npos);
        for (auto word :
             {"root", "SECRET", "zzzzz", "aaaaa", "Q", "dupkk", "hello", "ELF", "'X'", "0x7f"})
            CHECK(message.find(word) == std::string::npos);
    }
}
