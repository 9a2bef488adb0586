#include "rpc/transport/access.hpp"

#include <array>

#include "core/util/ascii.hpp"
#include "rpc/transport/request_checks.hpp"
#include "rpc/transport/secret.hpp"

namespace btd::rpc::transport {
namespace {

constexpr std::array<std::string_view, 5> kReadOnlyMethods = {
    "torrent.list", "torrent.get", "session.get", "session.stats", "daemon.version"};

}  // namespace

bool method_is_read_only(std::string_view method) {
    for (auto m : kReadOnlyMethods)
        if (m == method) return true;
    return false;
}

bool method_needs_admin(std::string_view method) {
    return method.starts_with("token.");
}

Dispatcher::MethodFilter method_filter(Scope scope) {
    if (scope == Scope::admin) return {};
    return [scope](std::string_view method) -> std::optional<RpcError> {
        if (method_needs_admin(method))
            return RpcError(errc::not_permitted, "'" + std::string(method) +
                                                     "' needs the admin secret (rpc.secret); "
                                                     "tokens cannot manage tokens");
        if (scope < Scope::full && !method_is_read_only(method))
            return RpcError(errc::not_permitted,
                            "this token is read-only: '" + std::string(method) +
                                "' would change something; use a full token or rpc.secret");
        return std::nullopt;
    };
}

Access::Access(std::optional<std::string> admin_secret, std::shared_ptr<TokenStore> tokens)
    : admin_secret_(std::move(admin_secret)), tokens_(std::move(tokens)) {}

Scope Access::scope_of_token(std::string_view token) const {
    if (!admin_secret_) return Scope::admin;
    if (token.empty()) return Scope::none;
    if (secrets_equal(token, *admin_secret_)) return Scope::admin;
    return tokens_ ? tokens_->scope_of(token) : Scope::none;
}

Scope Access::scope_of_authorization(std::string_view header) const {
    auto value = trim_blanks(header);
    constexpr std::string_view kScheme = "bearer ";
    if (value.size() <= kScheme.size()) return Scope::none;
    for (std::size_t i = 0; i < kScheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return Scope::none;
    return scope_of_token(trim_blanks(value.substr(kScheme.size())));
}

const WebSession* Access::session_of_cookie(std::string_view cookie_header) {
    auto id = cookie_value(cookie_header, kSessionCookie);
    return id.empty() ? nullptr : sessions_.find(id);
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        auto end = header.find(';');
        auto pair = trim_blanks(header.substr(0, end));
        auto eq = pair.find('=');
        if (eq != std::string_view::npos && trim_blanks(pair.substr(0, eq)) == name)
            return trim_blanks(pair.substr(eq + 1));
        if (end == std::string_view::npos) break;
        header.remove_prefix(end + 1);
    }
    return {};
}

}  // namespace btd::rpc::transport
