#include "rpc/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace btd::rpc {

std::string HttpUrl::host_header() const {
    std::string h = ipv6_literal ? "[" + host + "]" : host;
    bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
    if (!default_port) h += ":" + std::to_string(port);
    return h;
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
    HttpUrl out;
    auto sep = url.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    out.scheme = std::string(url.substr(0, sep));
    std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
    out.port = out.scheme == "http" ? 80 : 443;

    auto rest = url.substr(sep + 3);
    auto path_start = rest.find_first_of("/?#");
    auto authority = rest.substr(0, path_start);
    auto path = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    path = path.substr(0, path.find('#'));
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

    std::string_view port_text;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = std::string(authority.substr(1, close - 1));
        out.ipv6_literal = true;
        auto after = authority.substr(close + 1);
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
    if (!port_text.empty()) {
        unsigned port = 0;
        auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
            port > 65535)
            return std::nullopt;
        out.port = static_cast<std::uint16_t>(port);
    }
    out.target = path.empty() ? "/" : std::string(path);
    if (out.target.front() == '?') out.target.insert(0, "/");
    return out;
}

}  // namespace btd::rpc
