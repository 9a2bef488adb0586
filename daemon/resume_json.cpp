#include "daemon/resume_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/session/labels.hpp"
#include "core/session/types.hpp"
#include "rpc/transport/json_parse.hpp"

namespace btd::daemon {

using nlohmann::json;

namespace {

constexpr int kResumeVersion = 1;
constexpr std::size_t kMaxResumeDepth = 8;  // the format nests 3 levels

bool valid_utf8(const std::string& s) {
    try {
        (void)json(s).dump();
        return true;
    } catch (const json::type_error&) {
        return false;
    }
}

std::string from_hex(const std::string& hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (hex.size() % 2) throw ResumeFormatError("download_dir_hex has an odd length");
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) throw ResumeFormatError("download_dir_hex is not hex");
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

std::int64_t get_int(const json& j, const char* key, std::int64_t min) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
        throw ResumeFormatError(std::string("'") + key + "' is missing or not an integer");
    auto v = it->get<std::int64_t>();
    if (v < min) throw ResumeFormatError(std::string("'") + key + "' is out of range");
    return v;
}

// Absent keys stay unset: the session defaults apply.
TorrentLimits decode_limits(const json& j) {
    if (!j.is_object()) throw ResumeFormatError("'limits' is not an object");
    TorrentLimits limits;
    if (j.contains("download_rate_limit"))
        limits.download_rate_limit = get_int(j, "download_rate_limit", 0);
    if (j.contains("upload_rate_limit"))
        limits.upload_rate_limit = get_int(j, "upload_rate_limit", 0);
    if (auto ratio = j.find("ratio_limit"); ratio != j.end()) {
        if (!ratio->is_number()) throw ResumeFormatError("'ratio_limit' is not a number");
        auto v = ratio->get<double>();
        if (!(v >= 0)) throw ResumeFormatError("'ratio_limit' is out of range");
        limits.ratio_limit = v;
    }
    if (j.contains("seed_idle_limit")) limits.seed_idle_limit = get_int(j, "seed_idle_limit", 0);
    return limits;
}

}  // namespace

std::string encode_resume_json(const Sha1Hash& id, const ResumeData& d) {
    json files = json::array();
    for (auto& f : d.files)
        files.push_back(
            {{"size", f.size}, {"mtime", f.mtime}, {"inode", f.inode}, {"mtime_ns", f.mtime_ns}});
    json j = {{"version", kResumeVersion},
              {"info_hash", to_hex(id)},
              {"have", d.have},
              {"files", std::move(files)},
              {"paused", d.paused},
              {"total_downloaded", d.total_downloaded},
              {"total_uploaded", d.total_uploaded},
              {"added_at", d.added_at},
              {"done_at", d.done_at},
              {"seconds_downloading", d.seconds_downloading},
              {"seconds_seeding", d.seconds_seeding},
              {"activity_at", d.activity_at},
              {"corrupt_bytes", d.corrupt_bytes}};
    auto dir = d.download_dir.string();
    if (valid_utf8(dir))
        j["download_dir"] = dir;
    else {
        auto bytes = std::string_view(dir);
        j["download_dir_hex"] = to_hex(std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    }
    json limits = json::object();
    if (d.limits.download_rate_limit) limits["download_rate_limit"] = *d.limits.download_rate_limit;
    if (d.limits.upload_rate_limit) limits["upload_rate_limit"] = *d.limits.upload_rate_limit;
    // JSON has no infinity: a ratio that is not finite would come back as null.
    if (d.limits.ratio_limit && std::isfinite(*d.limits.ratio_limit))
        limits["ratio_limit"] = *d.limits.ratio_limit;
    if (d.limits.seed_idle_limit) limits["seed_idle_limit"] = *d.limits.seed_idle_limit;
    if (!limits.empty()) j["limits"] = std::move(limits);
    if (!d.file_priorities.empty()) j["file_priorities"] = d.file_priorities;
    if (d.sequential) j["sequential"] = true;
    if (!d.labels.empty()) j["labels"] = d.labels;
    if (d.queue_position >= 0) j["queue_position"] = d.queue_position;
    return j.dump(1) + "\n";
}

ResumeData decode_resume_json(std::string_view text, const Sha1Hash& expected_id) {
    // Depth checked before a tree is built: destroying or dumping a deep one recurses.
    if (rpc::json_nesting_depth(text, kMaxResumeDepth) > kMaxResumeDepth)
        throw ResumeFormatError("nested too deeply");
    auto parsed = rpc::parse_json_limited(text, kMaxResumeDepth);
    if (!parsed) throw ResumeFormatError("not valid JSON");
    json j = std::move(*parsed);
    if (!j.is_object()) throw ResumeFormatError("not a JSON object");
    if (get_int(j, "version", 0) != kResumeVersion)
        throw ResumeFormatError("unsupported version " + j["version"].dump());
    auto hash = j.find("info_hash");
    if (hash == j.end() || !hash->is_string() || hash->get<std::string>() != to_hex(expected_id))
        throw ResumeFormatError("it belongs to another torrent");

    ResumeData d;
    auto have = j.find("have");
    if (have == j.end() || !have->is_string())
        throw ResumeFormatError("'have' is missing or not a string");
    d.have = have->get<std::string>();
    if (d.have.find_first_not_of("01") != std::string::npos)
        throw ResumeFormatError("'have' may hold only '0' and '1'");

    auto files = j.find("files");
    if (files == j.end() || !files->is_array())
        throw ResumeFormatError("'files' is missing or not an array");
    for (auto& f : *files) {
        if (!f.is_object()) throw ResumeFormatError("an entry of 'files' is not an object");
        ResumeFile file{get_int(f, "size", -1), get_int(f, "mtime", INT64_MIN)};
        // Written since btd tells a replaced file from the one it verified; absent = unknown.
        if (f.contains("inode")) file.inode = get_int(f, "inode", 0);
        if (f.contains("mtime_ns")) file.mtime_ns = get_int(f, "mtime_ns", -1);
        d.files.push_back(file);
    }
    auto paused = j.find("paused");
    if (paused == j.end() || !paused->is_boolean())
        throw ResumeFormatError("'paused' is missing or not a boolean");
    d.paused = paused->get<bool>();
    d.total_downloaded = get_int(j, "total_downloaded", 0);
    d.total_uploaded = get_int(j, "total_uploaded", 0);
    d.added_at = get_int(j, "added_at", 0);
    if (j.contains("done_at")) d.done_at = get_int(j, "done_at", 0);  // absent before done dates
    if (j.contains("seconds_downloading"))  // absent in files from before these were counted
        d.seconds_downloading = get_int(j, "seconds_downloading", 0);
    if (j.contains("seconds_seeding")) d.seconds_seeding = get_int(j, "seconds_seeding", 0);
    if (j.contains("activity_at")) d.activity_at = get_int(j, "activity_at", 0);
    if (j.contains("corrupt_bytes")) d.corrupt_bytes = get_int(j, "corrupt_bytes", 0);

    if (auto dir = j.find("download_dir"); dir != j.end()) {
        if (!dir->is_string()) throw ResumeFormatError("'download_dir' is not a string");
        d.download_dir = dir->get<std::string>();
    } else if (auto hex = j.find("download_dir_hex"); hex != j.end()) {
        if (!hex->is_string()) throw ResumeFormatError("'download_dir_hex' is not a string");
        d.download_dir = from_hex(hex->get<std::string>());
    } else {
        throw ResumeFormatError("'download_dir' is missing");
    }
    if (d.download_dir.empty() || !d.download_dir.is_absolute())
        throw ResumeFormatError("'download_dir' is not an absolute path");
    if (auto limits = j.find("limits"); limits != j.end()) d.limits = decode_limits(*limits);
    if (auto prio = j.find("file_priorities"); prio != j.end()) {
        if (!prio->is_array()) throw ResumeFormatError("'file_priorities' is not an array");
        for (auto& p : *prio) {
            if (!p.is_number_integer() || p.get<std::int64_t>() < 0 || p.get<std::int64_t>() > 7)
                throw ResumeFormatError("'file_priorities' holds a value outside 0..7");
            d.file_priorities.push_back(p.get<int>());
        }
    }
    if (auto seq = j.find("sequential"); seq != j.end()) {
        if (!seq->is_boolean()) throw ResumeFormatError("'sequential' is not a boolean");
        d.sequential = seq->get<bool>();
    }
    if (auto labels = j.find("labels"); labels != j.end()) {
        if (!labels->is_array()) throw ResumeFormatError("'labels' is not an array");
        for (auto& label : *labels) {
            if (!label.is_string())
                throw ResumeFormatError("'labels' holds a value that is not a string");
            d.labels.push_back(label.get<std::string>());
        }
        try {
            d.labels = checked_labels(d.labels);
        } catch (const SessionError& e) {
            throw ResumeFormatError(std::string("'labels': ") + e.what());
        }
    }
    if (j.contains("queue_position")) d.queue_position = get_int(j, "queue_position", 0);
    return d;
}

}  // namespace btd::daemon
