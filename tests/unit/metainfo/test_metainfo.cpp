#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "core/bencode/bencode.hpp"
#include "core/metainfo/metainfo.hpp"
#include "core/util/hash.hpp"

using namespace btd;
using namespace btd::bencode;

namespace {

constexpr std::int64_t kPiece = 16384;

// Distinct fake piece hashes, enough for `total` bytes.
std::string fake_pieces(std::int64_t total, std::int64_t piece_length) {
    const std::int64_t count = total == 0 ? 0 : (total - 1) / piece_length + 1;
    std::string out;
    for (std::int64_t i = 0; i < count; ++i) {
        auto h = sha1(std::to_string(i));
        out += as_chars(h);
    }
    return out;
}

Dict single_info(const std::string& name, std::int64_t length, std::int64_t piece = kPiece) {
    Dict info;
    info["name"] = make_string(name);
    info["length"] = make_int(length);
    info["piece length"] = make_int(piece);
    info["pieces"] = make_string(fake_pieces(length, piece));
    return info;
}

Value file_entry(std::int64_t length, std::vector<std::string> path, std::string attr = "") {
    Dict d;
    d["length"] = make_int(length);
    List p;
    for (auto& c : path) p.push_back(make_string(std::move(c)));
    d["path"] = make_list(std::move(p));
    if (!attr.empty()) d["attr"] = make_string(std::move(attr));
    return make_dict(std::move(d));
}

Dict multi_info(const std::string& name, List files, std::int64_t piece = kPiece) {
    std::int64_t total = 0;
    for (const auto& f : files) total += f.find("length")->as_int();
    Dict info;
    info["name"] = make_string(name);
    info["files"] = make_list(std::move(files));
    info["piece length"] = make_int(piece);
    info["pieces"] = make_string(fake_pieces(total, piece));
    return info;
}

std::string torrent(Dict info, Dict root = {}) {
    root["info"] = make_dict(std::move(info));
    return encode(make_dict(std::move(root)));
}

std::string parse_error(std::string_view bytes) {
    try {
        parse_metainfo(bytes);
    } catch (const MetainfoError& e) {
        return e.what();
    }
    return "(no error)";
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("single-file torrent") {
    const Dict info = single_info("movie.mkv", 40000);
    Dict root;
    root["announce"] = make_string("http://tracker.example/announce");
    root["comment"] = make_string("hello");
    root["created by"] = make_string("test");
    root["creation date"] = make_int(1700000000);
    const Metainfo m = parse_metainfo(torrent(info, root));

    CHECK(m.name == "movie.mkv");
    CHECK(m.piece_length == kPiece);
    CHECK(m.total_size == 40000);
    REQUIRE(m.files.size() == 1);
    CHECK(m.files[0].path == std::filesystem::path("movie.mkv"));
    CHECK(m.files[0].length == 40000);
    CHECK(m.files[0].offset == 0);
    CHECK_FALSE(m.files[0].pad);
    REQUIRE(m.num_pieces() == 3);
    CHECK(m.piece_size(0) == kPiece);
    CHECK(m.piece_size(1) == kPiece);
    CHECK(m.piece_size(2) == 40000 - 2 * kPiece);
    CHECK_THROWS_AS(m.piece_size(3), std::out_of_range);
    CHECK_THROWS_AS(m.piece_size(-1), std::out_of_range);
    CHECK(m.piece_hash(0) == sha1(std::string_view("0")));
    CHECK(m.piece_hash(1) == sha1(std::string_view("1")));
    CHECK(m.piece_hash(2) == sha1(std::string_view("2")));
    CHECK(m.piece_hashes.empty());  // read from raw_info: 10,000 torrents hold them once
    CHECK(m.comment == "hello");
    CHECK(m.created_by == "test");
    CHECK(m.creation_date == 1700000000);
    CHECK_FALSE(m.is_private);
    REQUIRE(m.announce_tiers.size() == 1);
    CHECK(m.announce_tiers[0] == std::vector<std::string>{"http://tracker.example/announce"});
}

TEST_CASE("info-hash is the SHA-1 of the exact info bytes") {
    Dict info = single_info("f", 100);
    info["x-unknown-key"] = make_list({make_int(1), make_string("keep me")});
    const std::string info_bytes = encode(make_dict(info));
    const std::string bytes = torrent(info);
    const Metainfo m = parse_metainfo(bytes);
    CHECK(m.raw_info == info_bytes);
    CHECK(m.info_hash == sha1(info_bytes));
    CHECK(bytes.find(m.raw_info) != std::string::npos);
    // A different info dict gives a different hash.
    CHECK(parse_metainfo(torrent(single_info("g", 100))).info_hash != m.info_hash);
}

TEST_CASE("last piece exactly full") {
    const Metainfo m = parse_metainfo(torrent(single_info("f", 2 * kPiece)));
    CHECK(m.num_pieces() == 2);
    CHECK(m.piece_size(1) == kPiece);
    const Metainfo one = parse_metainfo(torrent(single_info("f", 1, 1)));
    CHECK(one.num_pieces() == 1);
    CHECK(one.piece_size(0) == 1);
}

TEST_CASE("multi-file torrent layout") {
    const Metainfo m = parse_metainfo(torrent(multi_info(
        "album", {file_entry(100, {"cd1", "01.flac"}), file_entry(0, {"empty.txt"}),
                  file_entry(50000, {"cd2", "deep", "02.flac"}), file_entry(7, {"a\\b"})})));
    CHECK(m.name == "album");
    REQUIRE(m.files.size() == 4);
    CHECK(m.files[0].path == std::filesystem::path("album/cd1/01.flac"));
    CHECK(m.files[0].offset == 0);
    CHECK(m.files[1].path == std::filesystem::path("album/empty.txt"));
    CHECK(m.files[1].offset == 100);
    CHECK(m.files[1].length == 0);
    CHECK(m.files[2].path == std::filesystem::path("album/cd2/deep/02.flac"));
    CHECK(m.files[2].offset == 100);
    CHECK(m.files[3].path == std::filesystem::path("album/a\\b"));  // backslash is just a byte
    CHECK(m.files[3].offset == 50100);
    CHECK(m.total_size == 50107);
    CHECK(m.num_pieces() == 4);
    CHECK(m.piece_size(3) == 50107 - 3 * kPiece);
    for (const auto& f : m.files) {
        CHECK(f.path.is_relative());
        CHECK(*f.path.begin() == "album");
    }
}

TEST_CASE("announce-list tiers (BEP 12)") {
    SUBCASE("announce-list replaces announce; bad entries dropped") {
        Dict root;
        root["announce"] = make_string("http://ignored.example/announce");
        root["announce-list"] = make_list({
            make_list({make_string("udp://a.example:80"), make_string("http://b.example/ann")}),
            make_list({}),
            make_list({make_string(""), make_int(5), make_string("ftp://c.example/"),
                       make_string("wss://d.example/"), make_string("HTTPS://e.example/ann")}),
            make_string("not a tier"),
            make_list({make_string("udp://a.example:80")}),  // duplicate URL dropped
        });
        const Metainfo m = parse_metainfo(torrent(single_info("f", 10), root));
        REQUIRE(m.announce_tiers.size() == 2);
        CHECK(m.announce_tiers[0] ==
              std::vector<std::string>{"udp://a.example:80", "http://b.example/ann"});
        CHECK(m.announce_tiers[1] == std::vector<std::string>{"HTTPS://e.example/ann"});
    }
    SUBCASE("empty or unusable announce-list falls back to announce") {
        Dict root;
        root["announce"] = make_string("udp://only.example:6969");
        root["announce-list"] = make_list({make_list({make_string("ftp://x/")})});
        const Metainfo m = parse_metainfo(torrent(single_info("f", 10), root));
        REQUIRE(m.announce_tiers.size() == 1);
        CHECK(m.announce_tiers[0] == std::vector<std::string>{"udp://only.example:6969"});
    }
    SUBCASE("no trackers at all, or an unsupported announce") {
        CHECK(parse_metainfo(torrent(single_info("f", 10))).announce_tiers.empty());
        Dict root;
        root["announce"] = make_string("dht://nope");
        CHECK(parse_metainfo(torrent(single_info("f", 10), root)).announce_tiers.empty());
    }
}

TEST_CASE("private flag (BEP 27)") {
    Dict info = single_info("f", 10);
    CHECK_FALSE(parse_metainfo(torrent(info)).is_private);
    info["private"] = make_int(1);
    CHECK(parse_metainfo(torrent(info)).is_private);
    info["private"] = make_int(0);
    CHECK_FALSE(parse_metainfo(torrent(info)).is_private);
}

TEST_CASE("pad files (BEP 47)") {
    const Metainfo m = parse_metainfo(torrent(
        multi_info("t", {file_entry(1000, {"a"}), file_entry(kPiece - 1000, {".pad", "15384"}, "p"),
                         file_entry(2000, {"b"}), file_entry(kPiece - 2000, {".pad", "14384"}),
                         file_entry(5, {"c"}), file_entry(3, {"zz"}, "xp"),
                         file_entry(kPiece - 2000, {".pad", "14384"}, "p")})));
    REQUIRE(m.files.size() == 7);
    CHECK_FALSE(m.files[0].pad);
    CHECK(m.files[1].pad);
    CHECK(m.files[2].offset == kPiece);  // pad bytes count toward offsets
    CHECK_FALSE(m.files[2].pad);
    CHECK(m.files[3].pad);  // recognised by path alone
    CHECK(m.files[4].offset == 2 * kPiece);
    CHECK(m.files[5].pad);  // attr contains 'p'
    CHECK(m.files[6].pad);  // same pad path twice is fine: pad files are never on disk
    CHECK(m.total_size == 2 * kPiece + 5 + 3 + kPiece - 2000);
    // ".pad" with a non-numeric name and no attr is an ordinary file.
    const Metainfo n =
        parse_metainfo(torrent(multi_info("t", {file_entry(3, {".pad", "notes.txt"})})));
    CHECK_FALSE(n.files[0].pad);
}

TEST_CASE("structural errors") {
    CHECK(contains(parse_error("garbage"), "invalid torrent"));
    CHECK(contains(parse_error("le"), "not a dictionary"));
    CHECK(contains(parse_error("d8:announce3:urle"), "'info'"));
    CHECK(contains(parse_error("d4:infoi1ee"), "'info' is not a dictionary"));
    // Real-world torrents with unsorted keys are refused with a clear reason.
    CHECK(contains(parse_error("d4:infod4:name1:a6:lengthi1eee"), "sorted"));

    Dict both = single_info("f", 10);
    both["files"] = make_list({file_entry(10, {"x"})});
    CHECK(contains(parse_error(torrent(both)), "both"));
    Dict neither = single_info("f", 10);
    neither.erase("length");
    CHECK(contains(parse_error(torrent(neither)), "neither"));
    Dict no_name = single_info("f", 10);
    no_name.erase("name");
    CHECK(contains(parse_error(torrent(no_name)), "'name'"));
    Dict int_name = single_info("f", 10);
    int_name["name"] = make_int(3);
    CHECK(contains(parse_error(torrent(int_name)), "not a string"));
    Dict bad_files = single_info("f", 10);
    bad_files.erase("length");
    bad_files["files"] = make_list({make_int(1)});
    CHECK(contains(parse_error(torrent(bad_files)), "file #0"));
    Dict bad_path = multi_info("t", {file_entry(10, {"x"})});
    Dict entry;
    entry["length"] = make_int(10);
    entry["path"] = make_list({});
    bad_path["files"] = make_list({make_dict(entry)});
    CHECK(contains(parse_error(torrent(bad_path)), "file #0 'path'"));
}

TEST_CASE("piece and size validation") {
    SUBCASE("piece count mismatch") {
        Dict info = single_info("f", 40000);
        info["pieces"] = make_string(fake_pieces(40000 + kPiece, kPiece));
        CHECK(contains(parse_error(torrent(info)), "piece count mismatch"));
        info["pieces"] = make_string(fake_pieces(1, kPiece));
        CHECK(contains(parse_error(torrent(info)), "piece count mismatch"));
    }
    SUBCASE("pieces not a multiple of 20") {
        Dict info = single_info("f", 100);
        info["pieces"] = make_string(std::string(21, 'x'));
        CHECK(contains(parse_error(torrent(info)), "multiple of 20"));
    }
    SUBCASE("piece length bounds") {
        for (std::int64_t bad : {std::int64_t{0}, std::int64_t{-16384}, kMaxPieceLength + 1}) {
            Dict info = single_info("f", 100);
            info["piece length"] = make_int(bad);
            CAPTURE(bad);
            CHECK(contains(parse_error(torrent(info)), "piece length"));
        }
        CHECK_NOTHROW(parse_metainfo(torrent(single_info("f", 100, kMaxPieceLength))));
    }
    SUBCASE("no data") {
        CHECK(contains(parse_error(torrent(single_info("f", 0))), "no data"));
        CHECK(contains(parse_error(torrent(multi_info("t", {}))), "no data"));
        CHECK(contains(parse_error(torrent(multi_info("t", {file_entry(0, {"a"})}))), "no data"));
    }
    SUBCASE("negative lengths and overflow") {
        CHECK(contains(parse_error(torrent(single_info("f", -5))), "negative"));
        CHECK(contains(parse_error(torrent(multi_info("t", {file_entry(-1, {"a"})}))), "negative"));
        const std::int64_t big = std::numeric_limits<std::int64_t>::max() - 10;
        Dict info;
        info["name"] = make_string("t");
        info["files"] = make_list({file_entry(big, {"a"}), file_entry(big, {"b"})});
        info["piece length"] = make_int(kPiece);
        info["pieces"] = make_string(std::string(20, 'x'));
        CHECK(contains(parse_error(torrent(info)), "overflow"));
    }
}

TEST_CASE("path attacks are rejected with the bad path named") {
    auto multi_error = [](std::vector<std::string> path) {
        return parse_error(torrent(multi_info("t", {file_entry(10, std::move(path))})));
    };
    CHECK(contains(multi_error({"..", "etc", "passwd"}), "\"..\""));
    CHECK(contains(multi_error({"..", "etc", "passwd"}), "t/../etc/passwd"));
    CHECK(contains(multi_error({"a", "..", "b"}), "unsafe path"));
    CHECK(contains(multi_error({"a/../b"}), "contains '/'"));
    CHECK(contains(multi_error({"/etc/passwd"}), "contains '/'"));
    CHECK(contains(multi_error({"", "etc"}), "empty path component"));
    CHECK(contains(multi_error({"a", ""}), "empty path component"));
    CHECK(contains(multi_error({"."}), "\".\""));
    CHECK(contains(multi_error({"a", ".", "b"}), "unsafe path"));
    CHECK(contains(multi_error({"bad\x01name"}), "control character"));
    CHECK(contains(multi_error({"bad\x01name"}), "bad\\x01name"));  // escaped in the message
    CHECK(contains(multi_error({"del\x7f"}), "control character"));
    CHECK(contains(multi_error({std::string("nul\0byte", 8)}), "control character"));
    CHECK(contains(multi_error({"new\nline"}), "control character"));
    CHECK(contains(multi_error({std::string(256, 'x')}), "256 bytes"));
    CHECK_NOTHROW(
        parse_metainfo(torrent(multi_info("t", {file_entry(10, {std::string(255, 'x')})}))));
    CHECK_NOTHROW(parse_metainfo(
        torrent(multi_info("t", {file_entry(10, {"..."}), file_entry(1, {".hidden"})}))));

    for (const std::string bad_name : {"..", ".", "", "/etc/passwd", "a/b", "x\x1f"}) {
        CAPTURE(bad_name);
        CHECK(contains(parse_error(torrent(single_info(bad_name, 10))), "torrent name"));
        CHECK(contains(parse_error(torrent(multi_info(bad_name, {file_entry(1, {"a"})}))),
                       "torrent name"));
    }
}

TEST_CASE("conflicting file paths are rejected") {
    auto error = [](List files) { return parse_error(torrent(multi_info("t", std::move(files)))); };
    CHECK(contains(error({file_entry(1, {"a"}), file_entry(2, {"a"})}), "same path \"t/a\""));
    CHECK(contains(
        error({file_entry(1, {"d", "x"}), file_entry(1, {"e"}), file_entry(2, {"d", "x"})}),
        "same path"));
    CHECK(contains(error({file_entry(1, {"a"}), file_entry(2, {"a", "b"})}),
                   "\"t/a\" is both a file and the directory of \"t/a/b\""));
    CHECK(contains(error({file_entry(2, {"a", "b", "c"}), file_entry(1, {"a", "b"})}),
                   "both a file and the directory"));
    // Case differs: distinct paths (we compare case-sensitively); a shared prefix string is fine.
    CHECK_NOTHROW(parse_metainfo(
        torrent(multi_info("t", {file_entry(1, {"a"}), file_entry(1, {"A"}),
                                 file_entry(1, {"ab", "c"}), file_entry(1, {"a.txt"})}))));
}

namespace {

std::map<std::string, std::string> read_expected(const std::filesystem::path& p) {
    std::ifstream in(p);
    REQUIRE_MESSAGE(in, "cannot open " << p);
    std::map<std::string, std::string> kv;
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return kv;
}

}  // namespace

TEST_CASE("torrents created by libtorrent parse to libtorrent's info-hash") {
    const std::filesystem::path dir = BTD_TEST_DATA_DIR;
    for (const char* name : {"lt_single", "lt_multi_v1", "lt_hybrid"}) {
        CAPTURE(name);
        auto expected = read_expected(dir / (std::string(name) + ".expected.txt"));
        const Metainfo m = load_metainfo_file(dir / (std::string(name) + ".torrent"));
        CHECK(to_hex(m.info_hash) == expected.at("info_hash"));
        CHECK(m.name == expected.at("name"));
        CHECK(m.total_size == std::stoll(expected.at("total_size")));
        CHECK(m.num_pieces() == std::stoi(expected.at("num_pieces")));
        CHECK(m.piece_length == std::stoll(expected.at("piece_length")));
        CHECK(m.files.size() == std::stoul(expected.at("num_files")));
        int pads = 0;
        for (const auto& f : m.files) pads += f.pad ? 1 : 0;
        CHECK(pads == std::stoi(expected.at("pad_files")));
        CHECK(m.is_private == (expected.at("private") == "1"));
        REQUIRE(m.announce_tiers.size() == 2);
        CHECK(m.announce_tiers[0][0] == "http://127.0.0.1:6969/announce");
        CHECK(m.announce_tiers[1][0] == "udp://127.0.0.1:6969/announce");
        CHECK(m.created_by == "make_data.py");
        // Offsets are contiguous.
        std::int64_t offset = 0;
        for (const auto& f : m.files) {
            CHECK(f.offset == offset);
            offset += f.length;
        }
        CHECK(offset == m.total_size);
    }
}

TEST_CASE("load_metainfo_file refuses bad files with clear messages") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("btd-metainfo-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto error = [](const std::filesystem::path& p) {
        try {
            load_metainfo_file(p);
        } catch (const MetainfoError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };

    const auto missing = dir / "missing.torrent";
    CHECK(contains(error(missing), missing.string()));
    CHECK(contains(error(missing), "No such file or directory"));

    CHECK(contains(error(dir), "not a regular file"));

    const auto fifo = dir / "fifo.torrent";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(contains(error(fifo), "not a regular file"));  // and it does not hang

    const auto big = dir / "big.torrent";
    { std::ofstream(big).put('d'); }
    std::filesystem::resize_file(big, kMaxTorrentFileBytes + 1);  // sparse, cheap
    CHECK(contains(error(big), "too large"));

    const auto garbage = dir / "garbage.torrent";
    { std::ofstream(garbage) << "i1e"; }
    const std::string msg = error(garbage);
    CHECK(contains(msg, garbage.string()));
    CHECK(contains(msg, "not a dictionary"));

    const auto good = dir / "good.torrent";
    { std::ofstream(good, std::ios::binary) << torrent(single_info("f", 100)); }
    CHECK(load_metainfo_file(good).total_size == 100);

    std::filesystem::remove_all(dir);
}

TEST_CASE("fuzz: mutated real torrents parse or throw MetainfoError") {
    std::ifstream in(std::filesystem::path(BTD_TEST_DATA_DIR) / "lt_hybrid.torrent",
                     std::ios::binary);
    const std::string seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(seed.size() > 100);
    std::mt19937 rng(4711);  // fixed seed: reproducible
    int parsed = 0, rejected = 0;
    for (int iter = 0; iter < 5000; ++iter) {
        std::string s = seed;
        for (int m = 0, n = 1 + static_cast<int>(rng() % 3); m < n; ++m) {
            const std::size_t pos = rng() % s.size();
            if (rng() % 2)
                s[pos] = static_cast<char>(rng() & 0xff);
            else
                s[pos] = "0123456789:ilde./"[rng() % 17];
        }
        try {
            const Metainfo m = parse_metainfo(s);
            CHECK(m.total_size > 0);
            CHECK(m.info_hash == sha1(m.raw_info));
            ++parsed;
        } catch (const MetainfoError&) {
            ++rejected;
        }
    }
    CHECK(parsed > 0);
    CHECK(rejected > 0);
    MESSAGE("metainfo fuzz: parsed " << parsed << ", rejected " << rejected);
}
