#pragma once
// `/transmission/rpc` on btd's RPC listener: the HTTP side of Transmission's protocol. After the
// server's Host and Origin checks: no valid credentials -> 401 (Basic, realm "btd"), then a
// missing or wrong X-Transmission-Session-Id -> 409 carrying the right one (409 means nothing
// else), then anything but POST -> 405. X-Transmission-Rpc-Version is never sent: it would switch
// transmission-remote 4.1 to a JSON-RPC 2.0 dialect btd does not speak here.
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rpc/transmission/transmission_rpc.hpp"
#include "rpc/transport/http_route.hpp"

namespace btd::rpc::transmission {

// transmission-remote 3.00 posts to the second form.
inline constexpr std::string_view kTransmissionPaths[] = {"/transmission/rpc",
                                                          "/transmission/rpc/"};
inline constexpr std::string_view kSessionIdHeader = "X-Transmission-Session-Id";

// Who may call /transmission/rpc. Authentication is on when either is set.
struct TransmissionCredentials {
    std::optional<std::string> secret;  // btd's RPC secret, with any user name (rpc_auth)
    // rpc_username/rpc_password from the config: Transmission's own pair, for apps that want
    // a user name and a password they choose (Sonarr, Radarr, dashboards).
    std::optional<std::pair<std::string, std::string>> user_password;

    bool required() const { return secret || user_password; }
};

// "Basic base64(user:password)" whose password equals `secret` (any user name), or
// "Bearer <secret>"; constant-time comparison.
bool credentials_match(std::string_view authorization_header, std::string_view secret);
// The header carries the secret (as above) or, as Basic, exactly the user/password pair.
bool credentials_match(std::string_view authorization_header,
                       const TransmissionCredentials& credentials);

class TransmissionRoute : public HttpRoute {
  public:
    // `secret`: the RPC secret; nullopt = authentication off (as rpc_auth = false for /rpc).
    TransmissionRoute(TransmissionRpc& rpc, std::optional<std::string> secret)
        : rpc_(rpc), credentials_{std::move(secret), std::nullopt} {}
    TransmissionRoute(TransmissionRpc& rpc, TransmissionCredentials credentials)
        : rpc_(rpc), credentials_(std::move(credentials)) {}

    std::optional<HttpResponse> check_headers(const HttpRequest& request) const override;
    void serve(HttpRequest request, std::function<void(HttpResponse)> reply) override;

  private:
    std::string unauthorized_text() const;

    TransmissionRpc& rpc_;
    TransmissionCredentials credentials_;
};

}  // namespace btd::rpc::transmission
