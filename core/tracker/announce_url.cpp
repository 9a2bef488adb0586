#include "core/tracker/announce_url.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace btd::tracker {
namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

// Joins a query string onto a URL that may already have one.
std::string with_query(std::string_view url, std::string_view query) {
    std::string out(url.substr(0, url.find('#')));
    char last = out.empty() ? '\0' : out.back();
    if (out.find('?') == std::string::npos)
        out += '?';
    else if (last != '?' && last != '&')
        out += '&';
    out += query;
    return out;
}

}  // namespace

std::string percent_encode(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 3);
    for (unsigned char c : bytes) {
        if (is_unreserved(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kDigits[c >> 4];
            out += kDigits[c & 15];
        }
    }
    return out;
}

std::string_view event_name(Event e) {
    switch (e) {
        case Event::started:
            return "started";
        case Event::completed:
            return "completed";
        case Event::stopped:
            return "stopped";
        case Event::none:
            break;
    }
    return "";
}

std::string build_announce_url(std::string_view announce_url, const AnnounceParams& p) {
    std::string q;
    q += "info_hash=" + percent_encode(as_chars(p.info_hash));
    q += "&peer_id=" + percent_encode(as_chars(p.peer_id));
    q += "&port=" + std::to_string(p.port);
    q += "&uploaded=" + std::to_string(p.uploaded);
    q += "&downloaded=" + std::to_string(p.downloaded);
    q += "&left=" + std::to_string(p.left);
    q += "&compact=1";
    if (p.event != Event::none) q += "&event=" + std::string(event_name(p.event));
    q += "&numwant=" + std::to_string(p.numwant);
    char key[9];
    std::snprintf(key, sizeof key, "%08X", static_cast<unsigned>(p.key));
    q += "&key=";
    q += key;
    if (!p.tracker_id.empty()) q += "&trackerid=" + percent_encode(p.tracker_id);
    return with_query(announce_url, q);
}

std::optional<std::string> scrape_url_from_announce(std::string_view announce_url) {
    std::string url(announce_url.substr(0, announce_url.find('#')));
    auto query = url.find('?');
    auto slash = url.rfind('/', query == std::string::npos ? std::string::npos : query);
    auto scheme_end = url.find("://");
    if (slash == std::string::npos || scheme_end == std::string::npos || slash < scheme_end + 3)
        return std::nullopt;
    constexpr std::string_view kWord = "announce";
    if (url.compare(slash + 1, kWord.size(), kWord) != 0) return std::nullopt;
    url.replace(slash + 1, kWord.size(), "scrape");
    return url;
}

std::string build_scrape_url(std::string_view scrape_url, const Sha1Hash& info_hash) {
    return with_query(scrape_url, "info_hash=" + percent_encode(as_chars(info_hash)));
}

}  // namespace btd::tracker
