#include "cli-remote/format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace btd::btctl {
namespace {

using nlohmann::json;

std::string two_digits(std::int64_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(v));
    return buf;
}

// Tolerates missing or mistyped members: output must never crash on an odd daemon reply.
std::int64_t get_int(const json& j, const char* key, std::int64_t fallback = 0) {
    auto it = j.find(key);
    return (it != j.end() && it->is_number()) ? it->get<std::int64_t>() : fallback;
}
double get_double(const json& j, const char* key) {
    auto it = j.find(key);
    return (it != j.end() && it->is_number()) ? it->get<double>() : 0.0;
}
std::string get_string(const json& j, const char* key) {
    auto it = j.find(key);
    return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

}  // namespace

std::string human_size(std::int64_t bytes) {
    if (bytes < 0) return "-";
    if (bytes < 1024) return std::to_string(bytes) + " B";
    static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = static_cast<double>(bytes) / 1024.0;
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    char buf[32];
    // Two decimals for GiB and up, where one digit hides a lot.
    std::snprintf(buf, sizeof buf, unit >= 2 ? "%.2f %s" : "%.1f %s", value, units[unit]);
    return buf;
}

std::string human_rate(std::int64_t bytes_per_s) {
    return human_size(bytes_per_s) + "/s";
}

std::string human_eta(std::int64_t s) {
    if (s < 0) return "-";
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m " + two_digits(s % 60) + "s";
    if (s < 86400) return std::to_string(s / 3600) + "h " + two_digits(s % 3600 / 60) + "m";
    if (s < 100LL * 86400)
        return std::to_string(s / 86400) + "d " + two_digits(s % 86400 / 3600) + "h";
    return "long";
}

std::string human_time(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) return std::to_string(unix_seconds);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string human_percent(double fraction) {
    fraction = std::clamp(fraction, 0.0, 1.0);
    char buf[16];
    // Never show 100.0% for something not complete.
    double pct = std::floor(fraction * 1000.0 + 1e-9) / 10.0;
    std::snprintf(buf, sizeof buf, "%.1f%%", pct);
    return buf;
}

std::size_t display_width(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string truncate_display(std::string_view s, std::size_t width) {
    if (display_width(s) <= width) return std::string(s);
    std::size_t keep = width > 3 ? width - 3 : 0;
    std::size_t chars = 0, i = 0;
    for (; i < s.size(); ++i) {
        bool starts_char = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
        if (starts_char && chars++ == keep) break;
    }
    return std::string(s.substr(0, i)) + std::string(std::min<std::size_t>(3, width), '.');
}

std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_aligned) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t c = 0; c < row.size(); ++c)
            widths[c] = std::max(widths[c], display_width(row[c]));
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            std::string pad(widths[c] - display_width(row[c]), ' ');
            bool right = c < right_aligned.size() && right_aligned[c];
            if (c > 0) line += "  ";
            line += right ? pad + row[c] : row[c] + (c + 1 < row.size() ? pad : "");
        }
        out += line + "\n";
    }
    return out;
}

namespace {

// "tv,hd" (Transmission's way of showing them; labels never hold commas).
std::string joined_labels(const json& t) {
    std::string out;
    auto it = t.find("labels");
    if (it == t.end() || !it->is_array()) return out;
    for (const auto& label : *it) {
        if (!label.is_string()) continue;
        if (!out.empty()) out += ",";
        out += label.get<std::string>();
    }
    return out;
}

}  // namespace

std::string format_torrent_list(const json& torrents, std::size_t name_width) {
    if (!torrents.is_array() || torrents.empty()) return "no torrents\n";
    std::vector<std::vector<std::string>> rows = {
        {"ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "PEERS", "ETA"}};
    bool any_labels = std::any_of(torrents.begin(), torrents.end(),
                                  [](const json& t) { return !joined_labels(t).empty(); });
    if (any_labels) rows[0].push_back("LABELS");
    for (const auto& t : torrents) {
        rows.push_back({get_string(t, "id").substr(0, 8),
                        truncate_display(get_string(t, "name"), name_width), get_string(t, "state"),
                        human_percent(get_double(t, "progress")), human_size(get_int(t, "size")),
                        human_rate(get_int(t, "download_rate")),
                        human_rate(get_int(t, "upload_rate")), std::to_string(get_int(t, "peers")),
                        human_eta(get_int(t, "eta", -1))});
        if (any_labels) rows.back().push_back(joined_labels(t));
    }
    return format_table(rows, {false, false, false, true, true, true, true, true, true, false});
}

std::string priority_name(int priority) {
    switch (priority) {
        case 0:
            return "skip";
        case 1:
            return "low";
        case 4:
            return "normal";
        case 7:
            return "high";
        default:
            return "priority " + std::to_string(priority);
    }
}

// The limits torrent.set changed ("down 2.0 MiB/s, ratio 1.50"); "" when none.
std::string torrent_limits(const json& d) {
    auto limits = d.find("limits");
    if (limits == d.end() || !limits->is_object()) return "";
    std::string out;
    auto add = [&](const std::string& what) {
        if (!out.empty()) out += ", ";
        out += what;
    };
    for (auto [key, word] :
         {std::pair{"download_rate_limit", "down"}, {"upload_rate_limit", "up"}}) {
        auto v = limits->find(key);
        if (v == limits->end() || !v->is_number()) continue;
        auto rate = v->get<std::int64_t>();
        add(std::string(word) + " " + (rate > 0 ? human_rate(rate) : "unlimited"));
    }
    if (auto r = limits->find("ratio_limit"); r != limits->end() && r->is_number()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", r->get<double>());
        add(r->get<double>() > 0 ? std::string("ratio ") + buf : "no ratio limit");
    }
    if (auto idle = limits->find("seed_idle_limit");
        idle != limits->end() && idle->is_number_integer()) {
        auto s = idle->get<std::int64_t>();
        add(s > 0 ? "idle " + human_eta(s) : "no idle limit");
    }
    return out;
}

namespace {

// session.stats' "dht" member: "off", or "<n> nodes, <m> lookups in flight".
std::string dht_summary(const json& dht) {
    if (!dht.value("enabled", false)) return "off";
    return std::to_string(get_int(dht, "nodes")) + " nodes, " +
           std::to_string(get_int(dht, "lookups")) + " lookups in flight";
}

// Connected peers under "Peers:", one aligned row each: address, where it came from (tracker,
// dht, pex, lsd, incoming, magnet), its progress, flags and client.
std::string format_peer_list(const json& d) {
    auto peers = d.find("peers");
    if (peers == d.end() || !peers->is_array() || peers->empty()) return {};
    std::vector<std::vector<std::string>> rows = {
        {"ADDRESS", "SOURCE", "PROGRESS", "FLAGS", "CLIENT"}};
    for (const auto& p : *peers)
        rows.push_back({get_string(p, "address"), get_string(p, "source"),
                        human_percent(get_double(p, "progress")), get_string(p, "flags"),
                        get_string(p, "client")});
    std::string out = "Peers:\n";
    auto table = format_table(rows, {false, false, true, false, false});
    for (std::size_t pos = 0; pos < table.size();) {
        auto end = table.find('\n', pos);
        out += "  " + table.substr(pos, end - pos + 1);
        pos = end + 1;
    }
    return out;
}

}  // namespace

std::string format_torrent_info(const json& d) {
    std::vector<std::vector<std::string>> rows = {
        {"Name:", get_string(d, "name")},
        {"ID:", get_string(d, "id")},
        {"State:", get_string(d, "state")},
        {"Progress:",
         human_percent(get_double(d, "progress")) + " of " + human_size(get_int(d, "size"))},
        {"Download:", human_rate(get_int(d, "download_rate")) + " (total " +
                          human_size(get_int(d, "downloaded")) + ")"},
        {"Upload:", human_rate(get_int(d, "upload_rate")) + " (total " +
                        human_size(get_int(d, "uploaded")) + ")"},
        {"Ratio:",
         [&] {
             char buf[32];
             std::snprintf(buf, sizeof buf, "%.2f", get_double(d, "ratio"));
             return std::string(buf);
         }()},
        {"Peers:", std::to_string(get_int(d, "peer_count", get_int(d, "peers"))) + " (" +
                       std::to_string(get_int(d, "seeds")) + " seeds)"},
        {"ETA:", human_eta(get_int(d, "eta", -1))},
        {"Directory:", get_string(d, "download_dir")}};
    if (auto total = get_int(d, "total_size", 0); total > get_int(d, "size"))
        rows[3][1] += " wanted (" + human_size(total) + " in all; some files skipped)";
    if (auto added = get_int(d, "added_at", 0); added > 0)
        rows.push_back({"Added:", human_time(added)});
    if (auto done = get_int(d, "done_at", 0); done > 0) rows.push_back({"Done:", human_time(done)});
    if (auto limits = torrent_limits(d); !limits.empty()) rows.push_back({"Limits:", limits});
    if (d.value("sequential", false)) rows.push_back({"Order:", "sequential"});
    if (auto labels = joined_labels(d); !labels.empty()) rows.push_back({"Labels:", labels});
    if (auto err = get_string(d, "error"); !err.empty()) rows.push_back({"Error:", err});
    if (get_string(d, "state") == "metadata")
        rows.push_back(
            {"Metadata:", human_percent(get_double(d, "metadata_progress")) + " fetched"});
    if (auto dht = d.find("dht"); dht != d.end() && dht->is_object())  // added by `btctl info`
        rows.push_back({"DHT:", dht_summary(*dht)});
    if (auto comment = get_string(d, "comment"); !comment.empty())
        rows.push_back({"Comment:", comment});
    std::string out = format_table(rows, {});

    if (auto files = d.find("files"); files != d.end() && files->is_array() && !files->empty()) {
        std::vector<std::vector<std::string>> file_rows;
        int index = -1;
        for (const auto& f : *files) {
            ++index;  // pad files keep their number: it is what `btctl set --files` takes
            if (f.value("pad", false)) continue;
            file_rows.push_back({std::to_string(index), human_percent(get_double(f, "progress")),
                                 human_size(get_int(f, "size")),
                                 priority_name(static_cast<int>(get_int(f, "priority", 4))),
                                 get_string(f, "path")});
        }
        out += "Files:\n";
        auto table = format_table(file_rows, {true, true, true, false, false});
        for (std::size_t pos = 0; pos < table.size();) {  // indent every line
            auto end = table.find('\n', pos);
            out += "  " + table.substr(pos, end - pos + 1);
            pos = end + 1;
        }
    }
    if (auto trackers = d.find("trackers");
        trackers != d.end() && trackers->is_array() && !trackers->empty()) {
        out += "Trackers:\n";
        for (const auto& t : *trackers) {
            out += "  [" + std::to_string(get_int(t, "tier")) + "] " + get_string(t, "url") + "  " +
                   get_string(t, "state");
            if (auto msg = get_string(t, "message"); !msg.empty()) out += "  " + msg;
            out += "\n";
        }
    }
    return out + format_peer_list(d);
}

std::string format_stats(const json& s) {
    std::string states;
    if (auto by = s.find("by_state"); by != s.end() && by->is_object())
        for (const auto& [state, count] : by->items())
            if (count.is_number() && count.get<std::int64_t>() > 0)
                states += (states.empty() ? "" : ", ") + state + " " +
                          std::to_string(count.get<std::int64_t>());
    std::vector<std::vector<std::string>> rows = {
        {"Torrents:",
         std::to_string(get_int(s, "torrents")) + (states.empty() ? "" : " (" + states + ")")},
        {"Download:", human_rate(get_int(s, "download_rate")) + " (this session " +
                          human_size(get_int(s, "downloaded")) + ")"},
        {"Upload:", human_rate(get_int(s, "upload_rate")) + " (this session " +
                        human_size(get_int(s, "uploaded")) + ")"},
        {"Peers:", std::to_string(get_int(s, "peers"))},
        {"Listen port:", std::to_string(get_int(s, "listen_port"))}};
    if (auto dht = s.find("dht"); dht != s.end() && dht->is_object())
        rows.push_back({"DHT:", dht_summary(*dht)});
    return format_table(rows, {});
}

}  // namespace btd::btctl
