#include "rpc/transport/request_checks.hpp"

#include <algorithm>
#include <cctype>

#include "core/util/ascii.hpp"
#include "rpc/transport/secret.hpp"

namespace btd::rpc {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && s.size() <= 5 &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Splits "name[:port]" / "[v6][:port]"; returns false if the shape is wrong.
bool split_host(std::string_view host, std::string_view& name) {
    if (host.empty()) return false;
    if (host.front() == '[') {
        auto close = host.find(']');
        if (close == std::string_view::npos) return false;
        name = host.substr(0, close + 1);
        auto rest = host.substr(close + 1);
        return rest.empty() || (rest.front() == ':' && all_digits(rest.substr(1)));
    }
    auto colon = host.find(':');
    if (colon == std::string_view::npos) {
        name = host;
        return true;
    }
    name = host.substr(0, colon);
    return !name.empty() && all_digits(host.substr(colon + 1));
}

}  // namespace

bool host_allowed(std::string_view host_header, const std::vector<std::string>& extra_hosts) {
    std::string host = ascii_lower(trim_blanks(host_header));
    std::string_view name;
    if (!split_host(host, name)) return false;
    auto matches = [&](const std::string& allowed) {
        auto a = ascii_lower(allowed);
        return a == name || a == host;  // an allowed entry may include a port
    };
    return std::any_of(kLoopbackHosts.begin(), kLoopbackHosts.end(), matches) ||
           std::any_of(extra_hosts.begin(), extra_hosts.end(), matches);
}

bool origin_allowed(std::string_view origin_header, bool has_origin,
                    const std::vector<std::string>& allowed_origins) {
    if (!has_origin) return true;
    auto origin = ascii_lower(trim_blanks(origin_header));
    return std::any_of(allowed_origins.begin(), allowed_origins.end(),
                       [&](const std::string& allowed) { return ascii_lower(allowed) == origin; });
}

bool bearer_token_matches(std::string_view authorization_header, std::string_view secret) {
    auto value = trim_blanks(authorization_header);
    constexpr std::string_view kScheme = "bearer ";
    if (value.size() <= kScheme.size() || ascii_lower(value.substr(0, kScheme.size())) != kScheme)
        return false;
    auto token = trim_blanks(value.substr(kScheme.size()));
    return !token.empty() && secrets_equal(token, secret);
}

bool is_json_content_type(std::string_view content_type) {
    auto media = trim_blanks(content_type.substr(0, content_type.find(';')));
    return ascii_lower(media) == "application/json";
}

}  // namespace btd::rpc
