#include "core/tracker/announce_url.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace btd::tracker {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

std::uint16_t default_port(std::string_view scheme) {
    if (scheme == "http") return 80;
    if (scheme == "https") return 443;
    return 0;
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

std::string url_scheme(std::string_view url) {
    auto sep = url.find("://");
    return sep == std::string_view::npos ? std::string() : lower(url.substr(0, sep));
}

std::optional<ParsedUrl> parse_url(std::string_view url) {
    url = url.substr(0, url.find('#'));
    auto sep = url.find("://");
    if (sep == std::string_view::npos || sep == 0) return std::nullopt;
    ParsedUrl out;
    out.scheme = lower(url.substr(0, sep));
    std::string_view rest = url.substr(sep + 3);
    auto path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    out.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
    if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
    if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no credentials

    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (out.host.empty()) return std::nullopt;
    out.host = lower(out.host);

    if (port_text.empty()) {
        out.port = default_port(out.scheme);
    } else {
        unsigned value = 0;
        auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535)
            return std::nullopt;
        out.port = static_cast<std::uint16_t>(value);
    }
    if (out.port == 0) return std::nullopt;
    return out;
}

std::string percent_encode(std::string_view bytes) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 3);
    for (unsigned char c : bytes) {
        if (is_unreserved(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
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
    constexpr std::string_view word = "announce";
    if (url.compare(slash + 1, word.size(), word) != 0) return std::nullopt;
    url.replace(slash + 1, word.size(), "scrape");
    return url;
}

std::string build_scrape_url(std::string_view scrape_url, const Sha1Hash& info_hash) {
    return with_query(scrape_url, "info_hash=" + percent_encode(as_chars(info_hash)));
}

}  // namespace btd::tracker
