#pragma once
// Splitting absolute URLs (scheme://host[:port][/path][?query][#fragment]): the one parser for
// tracker URLs (http, https, udp), .torrent downloads and btctl's --rpc URL. No I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace btd {

struct Url {
    std::string scheme;  // lower-case
    std::string host;    // lower-case, without brackets for IPv6 literals
    std::uint16_t port = 0;
    std::string target;  // path plus query, at least "/"; no fragment
    bool ipv6_literal = false;

    // Value for the Host header: host (bracketed if IPv6) plus ":port" if not the default.
    std::string host_header() const;
};

// nullopt if malformed: no scheme or host, user info ("user@"), a port out of 1..65535, or no
// port for a scheme without a default (http 80, https 443; udp has none).
std::optional<Url> parse_url(std::string_view url);

// parse_url, and only http:// or https://.
std::optional<Url> parse_http_url(std::string_view url);

// The scheme before "://", lower-cased; empty if there is none.
std::string url_scheme(std::string_view url);

}  // namespace btd
