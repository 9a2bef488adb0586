#pragma once
// Browser sessions after a login with a token: a random session id (sent only as an HttpOnly,
// SameSite=Strict cookie) and a per-session CSRF token the page sends back in X-CSRF-Token on
// every state-changing request. Sessions expire; their number is bounded (the oldest goes).
// In memory only: a daemon restart logs every browser out. Network thread only.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "rpc/transport/token_store.hpp"

namespace btd::rpc::transport {

inline constexpr std::string_view kSessionCookie = "btd_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

struct WebSession {
    std::string id;    // the cookie value
    std::string csrf;  // X-CSRF-Token value
    Scope scope = Scope::none;
    std::string token_name;  // the named token it logged in with; empty for the admin secret
    std::chrono::steady_clock::time_point expires;
};

class WebSessions {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    static constexpr std::chrono::hours kLifetime{12};
    static constexpr std::size_t kMaxSessions = 256;

    explicit WebSessions(Clock clock = [] { return std::chrono::steady_clock::now(); })
        : clock_(std::move(clock)) {}

    const WebSession& create(Scope scope, std::string token_name);
    const WebSession* find(std::string_view id);  // nullptr if unknown or expired
    void remove(std::string_view id);
    void remove_for_token(std::string_view token_name);  // a revoked token's sessions end too
    std::size_t size() const { return sessions_.size(); }

  private:
    Clock clock_;
    std::map<std::string, WebSession, std::less<>> sessions_;
};

// Constant-time comparison of a sent CSRF header with the session's token.
bool csrf_matches(const WebSession& session, std::string_view sent);

}  // namespace btd::rpc::transport
