#pragma once
// Who may do what on the RPC listener: the admin secret (rpc.secret), named tokens (TokenStore)
// and browser sessions (WebSessions), each resolved to a Scope. Pure decisions on header values,
// testable without sockets. Runs on the network thread; not thread-safe.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rpc/transport/dispatcher.hpp"
#include "rpc/transport/token_store.hpp"
#include "rpc/transport/web_sessions.hpp"

namespace btd::rpc::transport {

// The methods a read-only token or session may call; every other method changes something.
bool method_is_read_only(std::string_view method);
// Token management is for the admin secret only (a full token cannot mint or revoke tokens).
bool method_needs_admin(std::string_view method);

// The Dispatcher filter for a caller: read-only scopes get -32010 (errc::not_permitted) on any
// method that is not read-only, and only the admin may call token.create/list/revoke. Admin: no
// filter.
Dispatcher::MethodFilter method_filter(Scope scope);

// What one request is allowed to do, and how it proved it.
struct Caller {
    Scope scope = Scope::none;
    const WebSession* session = nullptr;  // set when a session cookie authenticated it
};

class Access {
  public:
    // `admin_secret`: nullopt = authentication off (every caller is admin). `tokens` may be null
    // (no named tokens).
    Access(std::optional<std::string> admin_secret, std::shared_ptr<TokenStore> tokens);

    bool auth_required() const { return admin_secret_.has_value(); }
    // The scope of a bearer token value (admin secret or a named token), or Scope::none.
    Scope scope_of_token(std::string_view token) const;
    // From "Authorization: Bearer <token>": the token's scope, or Scope::none.
    Scope scope_of_authorization(std::string_view header) const;
    // From a Cookie header: the live session it names, or nullptr.
    const WebSession* session_of_cookie(std::string_view cookie_header);

    WebSessions& sessions() { return sessions_; }
    TokenStore* tokens() const { return tokens_.get(); }

  private:
    std::optional<std::string> admin_secret_;
    std::shared_ptr<TokenStore> tokens_;
    WebSessions sessions_;
};

// The value of cookie `name` in a Cookie header, or empty.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace btd::rpc::transport
