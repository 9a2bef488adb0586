#include "rpc/transport/web_endpoints.hpp"

#include <nlohmann/json.hpp>

#include "core/util/ascii.hpp"
#include "rpc/web/web_assets.hpp"

namespace btd::rpc::transport {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

HttpResponse make(const HttpRequest& request, http::status status, std::string_view type,
                  std::string body) {
    HttpResponse response{status, request.version()};
    response.set(http::field::content_type, type);
    response.body() = std::move(body);
    response.keep_alive(request.keep_alive());
    return response;
}

HttpResponse json_reply(const HttpRequest& request, http::status status, const json& body) {
    return make(request, status, "application/json", body.dump() + "\n");
}

HttpResponse refusal(const HttpRequest& request, http::status status, std::string message) {
    return json_reply(request, status, {{"error", std::move(message)}});
}

std::string_view header(const HttpRequest& request, http::field field) {
    auto it = request.find(field);
    return it == request.end() ? std::string_view{} : std::string_view(it->value());
}

std::string_view header(const HttpRequest& request, std::string_view name) {
    auto it = request.find(name);
    return it == request.end() ? std::string_view{} : std::string_view(it->value());
}

HttpResponse static_file(const HttpRequest& request, const web::WebAsset& asset) {
    auto response = make(request, http::status::ok, asset.content_type, std::string(asset.body));
    response.set("Content-Security-Policy", kContentSecurityPolicy);
    response.set("X-Frame-Options", "DENY");
    response.set("Referrer-Policy", "no-referrer");
    return response;
}

std::string session_cookie(std::string_view value, long max_age) {
    return std::string(kSessionCookie) + "=" + std::string(value) +
           "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
}

HttpResponse login(const HttpRequest& request, Access& access) {
    if (request.method() != http::verb::post)
        return refusal(request, http::status::method_not_allowed, "use POST");
    auto authorization = header(request, http::field::authorization);
    auto scope = access.scope_of_authorization(authorization);
    if (scope == Scope::none)
        return refusal(request, http::status::unauthorized,
                       "wrong token: use rpc.secret from btd's state dir, or a token from "
                       "`btctl token create`");
    std::string token_name;
    if (access.tokens() && scope != Scope::admin) {
        auto value = authorization.substr(authorization.find(' ') + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        token_name = access.tokens()->token_name_of(value);
    }
    const auto& session = access.sessions().create(scope, std::move(token_name));
    auto response = json_reply(request, http::status::ok,
                               {{"scope", scope_name(scope)}, {"csrf_token", session.csrf}});
    auto max_age = std::chrono::duration_cast<std::chrono::seconds>(WebSessions::kLifetime);
    response.set(http::field::set_cookie, session_cookie(session.id, max_age.count()));
    return response;
}

HttpResponse session_info(const HttpRequest& request, Access& access) {
    if (!access.auth_required())
        return json_reply(request, http::status::ok, {{"scope", "admin"}, {"csrf_token", ""}});
    const auto* session = access.session_of_cookie(header(request, http::field::cookie));
    if (!session) return refusal(request, http::status::unauthorized, "not logged in");
    return json_reply(request, http::status::ok,
                      {{"scope", scope_name(session->scope)}, {"csrf_token", session->csrf}});
}

HttpResponse logout(const HttpRequest& request, Access& access) {
    if (request.method() != http::verb::post)
        return refusal(request, http::status::method_not_allowed, "use POST");
    auto checked = authorize(request, access, true);
    if (auto* refused = std::get_if<HttpResponse>(&checked)) return std::move(*refused);
    if (const auto* session = std::get<Caller>(checked).session)
        access.sessions().remove(std::string(session->id));
    auto response = json_reply(request, http::status::ok, json::object());
    response.set(http::field::set_cookie, session_cookie("", 0));
    return response;
}

HttpResponse metrics(const HttpRequest& request, Access& access, const WebOptions& options) {
    if (!options.metrics) return refusal(request, http::status::not_found, "no metrics here");
    if (!options.metrics_public) {
        auto checked = authorize(request, access, false);
        if (auto* refused = std::get_if<HttpResponse>(&checked)) return std::move(*refused);
    }
    return make(request, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                options.metrics());
}

}  // namespace

bool same_origin(std::string_view origin, std::string_view host) {
    return !host.empty() && ascii_lower(origin) == "http://" + ascii_lower(host);
}

std::optional<HttpResponse> answer_web_request(const HttpRequest& request, Access& access,
                                               const WebOptions& options) {
    auto target = request.target();
    auto path = std::string_view(target.data(), target.size()).substr(0, target.find('?'));
    if (path == "/login") return login(request, access);
    if (path == "/logout") return logout(request, access);
    if (path == "/session") return session_info(request, access);
    if (path == "/metrics") return metrics(request, access, options);
    if (request.method() != http::verb::get && request.method() != http::verb::head)
        return std::nullopt;
    if (const auto* asset = web::find_web_asset(path)) return static_file(request, *asset);
    return std::nullopt;
}

std::variant<Caller, HttpResponse> authorize(const HttpRequest& request, Access& access,
                                             bool state_changing) {
    if (!access.auth_required()) return Caller{Scope::admin, nullptr};
    if (auto authorization = header(request, http::field::authorization); !authorization.empty()) {
        auto scope = access.scope_of_authorization(authorization);
        if (scope != Scope::none) return Caller{scope, nullptr};
    } else if (const auto* session =
                   access.session_of_cookie(header(request, http::field::cookie))) {
        if (!state_changing) return Caller{session->scope, session};
        if (!same_origin(header(request, http::field::origin), header(request, http::field::host)))
            return refusal(request, http::status::forbidden,
                           "a request with the session cookie must come from btd's own page "
                           "(Origin missing or foreign)");
        if (!csrf_matches(*session, header(request, kCsrfHeader)))
            return refusal(request, http::status::forbidden,
                           "missing or wrong X-CSRF-Token: reload the page");
        return Caller{session->scope, session};
    }
    auto response = make(request, http::status::unauthorized, "text/plain",
                         "authentication required: send 'Authorization: Bearer <secret>' (the "
                         "secret is in rpc.secret in the daemon's state dir) or log in on the "
                         "page at /\n");
    response.set(http::field::www_authenticate, "Bearer realm=\"btd\"");
    return response;
}

}  // namespace btd::rpc::transport
