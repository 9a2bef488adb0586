#pragma once
// The HTTP-level security rules of the RPC endpoint, as pure functions so they can be tested
// without sockets: Host allow-list (DNS rebinding), Origin (cross-site browsers), bearer auth.
#include <string>
#include <string_view>
#include <vector>

namespace btd::rpc {

// Hosts always allowed, with or without a port.
inline const std::vector<std::string> kLoopbackHosts = {"localhost", "127.0.0.1", "[::1]"};

// True if the Host header value names a loopback host or one of `extra_hosts` (case-insensitive),
// optionally followed by ":port". An IPv6 literal must be bracketed, as HTTP requires.
bool host_allowed(std::string_view host_header, const std::vector<std::string>& extra_hosts);

// True if there is no Origin header (not a browser, or same-origin GET) or it is listed exactly.
bool origin_allowed(std::string_view origin_header, bool has_origin,
                    const std::vector<std::string>& allowed_origins);

// "Bearer <token>" (scheme case-insensitive) whose token equals `secret`; constant time.
bool bearer_token_matches(std::string_view authorization_header, std::string_view secret);

// The media type of a Content-Type value is application/json (parameters like charset ignored).
bool is_json_content_type(std::string_view content_type);

}  // namespace btd::rpc
