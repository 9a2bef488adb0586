#pragma once
// Minimal http(s) URL parsing for fetching .torrent files and for btctl's --rpc URL.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace btd::rpc {

struct HttpUrl {
    std::string scheme;  // "http" or "https" (lowercase)
    std::string host;    // without brackets for IPv6 literals
    std::uint16_t port = 0;
    std::string target;  // path and query, at least "/"
    bool ipv6_literal = false;

    // Value for the Host header: host (bracketed if IPv6) plus ":port" if not the default.
    std::string host_header() const;
};

// nullopt unless `url` is http:// or https:// with a host; user info ("user@") is refused.
std::optional<HttpUrl> parse_http_url(std::string_view url);

}  // namespace btd::rpc
