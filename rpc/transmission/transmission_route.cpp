#include "rpc/transmission/transmission_route.hpp"

#include "core/util/ascii.hpp"
#include "rpc/transport/base64.hpp"
#include "rpc/transport/secret.hpp"

namespace btd::rpc::transmission {
namespace {

namespace http = boost::beast::http;

HttpResponse text(const HttpRequest& request, http::status status, std::string body) {
    HttpResponse response{status, request.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = std::move(body);
    response.keep_alive(request.keep_alive());
    return response;
}

}  // namespace

// What an Authorization header carries: a bearer token, or Basic's user and password.
struct SentCredentials {
    std::optional<std::string> bearer;
    std::optional<std::pair<std::string, std::string>> basic;
};

SentCredentials parse_authorization(std::string_view header) {
    auto value = trim_blanks(header);
    auto space = value.find(' ');
    if (space == std::string_view::npos) return {};
    auto scheme = ascii_lower(value.substr(0, space));
    auto token = trim_blanks(value.substr(space + 1));
    if (scheme == "bearer")
        return {token.empty() ? std::nullopt : std::optional(std::string(token)), std::nullopt};
    if (scheme != "basic") return {};
    auto decoded = base64_decode(token);
    if (!decoded) return {};
    auto colon = decoded->find(':');
    if (colon == std::string::npos) return {};
    return {std::nullopt, std::pair(decoded->substr(0, colon), decoded->substr(colon + 1))};
}

bool credentials_match(std::string_view header, std::string_view secret) {
    return credentials_match(header, TransmissionCredentials{std::string(secret), std::nullopt});
}

bool credentials_match(std::string_view header, const TransmissionCredentials& credentials) {
    auto sent = parse_authorization(header);
    if (credentials.secret) {
        if (sent.bearer && secrets_equal(*sent.bearer, *credentials.secret)) return true;
        if (sent.basic && secrets_equal(sent.basic->second, *credentials.secret)) return true;
    }
    if (credentials.user_password && sent.basic) {
        // Both compared, always: the time taken says nothing about which one was wrong.
        bool user = secrets_equal(sent.basic->first, credentials.user_password->first);
        bool password = secrets_equal(sent.basic->second, credentials.user_password->second);
        return user && password;
    }
    return false;
}

std::string TransmissionRoute::unauthorized_text() const {
    std::string how = "authentication required: ";
    if (credentials_.user_password) how += "rpc_username and rpc_password from btd's config";
    if (credentials_.user_password && credentials_.secret) how += ", or ";
    if (credentials_.secret)
        how +=
            "any user name and btd's RPC secret (rpc.secret in the daemon's state dir) as the "
            "password";
    return how + "\n";
}

std::optional<HttpResponse> TransmissionRoute::check_headers(const HttpRequest& request) const {
    if (credentials_.required()) {
        auto auth = request.find(http::field::authorization);
        if (auth == request.end() || !credentials_match(auth->value(), credentials_)) {
            auto response = text(request, http::status::unauthorized, unauthorized_text());
            response.set(http::field::www_authenticate, "Basic realm=\"btd\"");
            return response;
        }
    }
    const auto& session_id = rpc_.options().session_id;
    auto sent = request.find(kSessionIdHeader);
    if (sent == request.end() || !secrets_equal(trim_blanks(sent->value()), session_id)) {
        auto response = text(request, http::status::conflict,
                             "missing or outdated X-Transmission-Session-Id: send the one in "
                             "this response's header and repeat the request\n");
        response.set(kSessionIdHeader, session_id);
        return response;
    }
    if (request.method() != http::verb::post) {
        auto response = text(request, http::status::method_not_allowed, "use POST\n");
        response.set(http::field::allow, "POST");
        return response;
    }
    return std::nullopt;
}

void TransmissionRoute::serve(HttpRequest request, std::function<void(HttpResponse)> reply) {
    auto version = request.version();
    bool keep_alive = request.keep_alive();
    rpc_.handle(request.body(), [reply = std::move(reply), version, keep_alive](std::string body) {
        HttpResponse response{http::status::ok, version};
        response.set(http::field::content_type, "application/json; charset=UTF-8");
        response.body() = std::move(body);
        response.keep_alive(keep_alive);
        reply(std::move(response));
    });
}

}  // namespace btd::rpc::transmission
