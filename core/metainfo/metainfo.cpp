#include "core/metainfo/metainfo.hpp"

#include <limits>
#include <set>
#include <stdexcept>

#include "core/bencode/bencode.hpp"
#include "core/metainfo/path_sanitizer.hpp"

namespace btd {

namespace {

using bencode::Value;

[[noreturn]] void fail(const std::string& why) {
    throw MetainfoError("invalid torrent: " + why);
}

const Value& require(const Value& dict, std::string_view key, std::string_view where) {
    const Value* v = dict.find(key);
    if (!v) fail(std::string(where) + " has no '" + std::string(key) + "' key");
    return *v;
}

std::int64_t require_int(const Value& dict, std::string_view key, std::string_view where) {
    const Value& v = require(dict, key, where);
    if (!v.is_int()) fail(std::string(where) + " '" + std::string(key) + "' is not an integer");
    return v.as_int();
}

const std::string& require_string(const Value& dict, std::string_view key, std::string_view where) {
    const Value& v = require(dict, key, where);
    if (!v.is_string()) fail(std::string(where) + " '" + std::string(key) + "' is not a string");
    return v.as_string();
}

// Optional descriptive fields: a wrong type is ignored rather than rejecting the torrent.
std::string optional_string(const Value& dict, std::string_view key) {
    const Value* v = dict.find(key);
    return v && v->is_string() ? v->as_string() : std::string();
}

bool is_supported_tracker_url(std::string_view url) {
    auto starts_with_ci = [&](std::string_view prefix) {
        if (url.size() <= prefix.size()) return false;  // a bare scheme is no URL
        for (std::size_t i = 0; i < prefix.size(); ++i) {
            char c = url[i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            if (c != prefix[i]) return false;
        }
        return true;
    };
    return starts_with_ci("http://") || starts_with_ci("https://") || starts_with_ci("udp://");
}

// BEP 12: a non-empty announce-list replaces announce; unusable URLs are dropped, not fatal.
void parse_trackers(const Value& root, Metainfo& m) {
    std::set<std::string> seen;
    if (const Value* list = root.find("announce-list"); list && list->is_list()) {
        for (const Value& tier : list->as_list()) {
            if (!tier.is_list()) continue;
            std::vector<std::string> urls;
            for (const Value& url : tier.as_list()) {
                if (!url.is_string() || !is_supported_tracker_url(url.as_string())) continue;
                if (seen.insert(url.as_string()).second) urls.push_back(url.as_string());
            }
            if (!urls.empty()) m.announce_tiers.push_back(std::move(urls));
        }
    }
    if (m.announce_tiers.empty()) {
        const std::string announce = optional_string(root, "announce");
        if (is_supported_tracker_url(announce)) m.announce_tiers.push_back({announce});
    }
}

bool is_pad_path(const std::vector<std::string>& components) {
    // BEP 47 convention: ".pad/<size>"
    if (components.size() != 2 || components[0] != ".pad" || components[1].empty()) return false;
    for (char c : components[1])
        if (c < '0' || c > '9') return false;
    return true;
}

std::int64_t add_length(std::int64_t total, std::int64_t length, std::string_view where) {
    if (length < 0) fail(std::string(where) + " has a negative length");
    if (total > std::numeric_limits<std::int64_t>::max() - length)
        fail("total size of the files overflows 64 bits");
    return total + length;
}

void parse_files(const Value& info, Metainfo& m) {
    const Value* length = info.find("length");
    const Value* files = info.find("files");
    if (length && files) fail("info dictionary has both 'length' and 'files'");
    if (!length && !files) fail("info dictionary has neither 'length' nor 'files'");

    if (length) {
        if (!length->is_int()) fail("info 'length' is not an integer");
        m.total_size = add_length(0, length->as_int(), "the single file");
        m.files.push_back(FileEntry{m.name, m.total_size, 0, false});
        return;
    }

    if (!files->is_list()) fail("info 'files' is not a list");
    std::vector<std::string> disk_paths;  // for the conflict check; pad files are never on disk
    std::int64_t offset = 0;
    int index = 0;
    for (const Value& entry : files->as_list()) {
        const std::string where = "file #" + std::to_string(index++);
        if (!entry.is_dict()) fail(where + " is not a dictionary");
        const std::int64_t file_length = require_int(entry, "length", where);
        const Value& path_value = require(entry, "path", where);
        if (!path_value.is_list() || path_value.as_list().empty())
            fail(where + " 'path' is not a non-empty list");

        std::vector<std::string> components;
        std::string joined = m.name;
        for (const Value& c : path_value.as_list()) {
            if (!c.is_string()) fail(where + " has a path component that is not a string");
            components.push_back(c.as_string());
            joined += '/';
            joined += c.as_string();
        }
        const std::string described = where + " path \"" + printable_path(joined) + "\"";
        std::filesystem::path path = m.name;
        for (const auto& c : components) {
            check_path_component(c, described);
            path /= c;
        }

        const std::string attr = optional_string(entry, "attr");
        const bool pad = attr.find('p') != std::string::npos || is_pad_path(components);
        m.files.push_back(FileEntry{std::move(path), file_length, offset, pad});
        offset = add_length(offset, file_length, where);
        if (!pad) disk_paths.push_back(std::move(joined));
    }
    m.total_size = offset;
    check_path_conflicts(disk_paths);
}

void parse_info(const Value& info, Metainfo& m) {
    m.name = require_string(info, "name", "info dictionary");
    check_path_component(m.name, "torrent name \"" + printable_path(m.name) + "\"");

    m.piece_length = require_int(info, "piece length", "info dictionary");
    if (m.piece_length < 1 || m.piece_length > kMaxPieceLength)
        fail("piece length " + std::to_string(m.piece_length) + " is outside 1.." +
             std::to_string(kMaxPieceLength));

    const std::string& pieces = require_string(info, "pieces", "info dictionary");
    if (pieces.size() % 20 != 0)
        fail("'pieces' is " + std::to_string(pieces.size()) + " bytes long, not a multiple of 20");

    if (const Value* priv = info.find("private"); priv && priv->is_int())
        m.is_private = priv->as_int() == 1;

    parse_files(info, m);
    if (m.total_size == 0) fail("torrent has no data (total size is 0)");

    const std::int64_t expected = (m.total_size - 1) / m.piece_length + 1;
    const auto actual = static_cast<std::int64_t>(pieces.size() / 20);
    if (expected != actual)
        fail("piece count mismatch: " + std::to_string(m.total_size) + " bytes in pieces of " +
             std::to_string(m.piece_length) + " need " + std::to_string(expected) +
             " hashes, but 'pieces' holds " + std::to_string(actual));
    if (actual > std::numeric_limits<int>::max()) fail("too many pieces");

    // The hashes stay in raw_info (the string's bytes end where its bencoded value ends).
    m.raw_pieces_offset = info.find("pieces")->span_end - pieces.size() - info.span_begin;
    m.raw_piece_count = static_cast<int>(actual);
}

}  // namespace

Sha1Hash Metainfo::piece_hash(int index) const {
    if (!piece_hashes.empty()) return piece_hashes[static_cast<std::size_t>(index)];
    return hash_from_bytes(std::string_view(raw_info).substr(
        raw_pieces_offset + static_cast<std::size_t>(index) * 20, 20));
}

std::int64_t Metainfo::piece_size(int index) const {
    if (index < 0 || index >= num_pieces())
        throw std::out_of_range("piece index " + std::to_string(index) + " out of range");
    if (index + 1 < num_pieces()) return piece_length;
    return total_size - piece_length * static_cast<std::int64_t>(index);
}

Metainfo parse_metainfo(std::string_view torrent_bytes) {
    bencode::Limits limits;
    limits.max_input = static_cast<std::size_t>(kMaxTorrentFileBytes);
    Value root;
    try {
        root = bencode::decode(torrent_bytes, limits);
    } catch (const bencode::DecodeError& e) {
        throw MetainfoError(std::string("invalid torrent: ") + e.what());
    }
    if (!root.is_dict()) fail("the top level is not a dictionary");
    const Value& info = require(root, "info", "torrent");
    if (!info.is_dict()) fail("'info' is not a dictionary");

    Metainfo m;
    m.raw_info.assign(torrent_bytes.substr(info.span_begin, info.span_end - info.span_begin));
    m.info_hash = sha1(m.raw_info);
    parse_info(info, m);
    parse_trackers(root, m);
    m.comment = optional_string(root, "comment");
    m.created_by = optional_string(root, "created by");
    if (const Value* date = root.find("creation date"); date && date->is_int())
        m.creation_date = date->as_int();
    return m;
}

}  // namespace btd
