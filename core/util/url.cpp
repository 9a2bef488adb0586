#include "core/util/url.hpp"

#include <charconv>

#include "core/util/ascii.hpp"

namespace btd {

namespace {

std::uint16_t default_port(std::string_view scheme) {
    if (scheme == "http") return 80;
    if (scheme == "https") return 443;
    return 0;
}

}  // namespace

std::string Url::host_header() const {
    std::string h = ipv6_literal ? "[" + host + "]" : host;
    // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) on ":" + string.
    if (port != default_port(scheme)) {
        h += ':';
        h += std::to_string(port);
    }
    return h;
}

std::string url_scheme(std::string_view url) {
    auto sep = url.find("://");
    return sep == std::string_view::npos ? std::string() : ascii_lower(url.substr(0, sep));
}

std::optional<Url> parse_url(std::string_view url) {
    url = url.substr(0, url.find('#'));
    auto sep = url.find("://");
    if (sep == std::string_view::npos || sep == 0) return std::nullopt;
    Url out;
    out.scheme = ascii_lower(url.substr(0, sep));
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
        out.ipv6_literal = true;
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (out.host.empty()) return std::nullopt;
    out.host = ascii_lower(out.host);

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

std::optional<Url> parse_http_url(std::string_view url) {
    auto out = parse_url(url);
    if (!out || (out->scheme != "http" && out->scheme != "https")) return std::nullopt;
    return out;
}

}  // namespace btd
