#include "rpc/transport/web_sessions.hpp"

#include <algorithm>

#include "rpc/transport/secret.hpp"

namespace btd::rpc::transport {

const WebSession& WebSessions::create(Scope scope, std::string token_name) {
    auto now = clock_();
    std::erase_if(sessions_, [&](const auto& entry) { return entry.second.expires <= now; });
    if (sessions_.size() >= kMaxSessions) {
        auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
            return a.second.expires < b.second.expires;
        });
        sessions_.erase(oldest);
    }
    WebSession session{generate_secret(), generate_secret(), scope, std::move(token_name),
                       now + kLifetime};
    auto id = session.id;
    return sessions_.emplace(std::move(id), std::move(session)).first->second;
}

const WebSession* WebSessions::find(std::string_view id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return nullptr;
    if (it->second.expires <= clock_()) {
        sessions_.erase(it);
        return nullptr;
    }
    return &it->second;
}

void WebSessions::remove(std::string_view id) {
    if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

void WebSessions::remove_for_token(std::string_view token_name) {
    std::erase_if(sessions_,
                  [&](const auto& entry) { return entry.second.token_name == token_name; });
}

bool csrf_matches(const WebSession& session, std::string_view sent) {
    return !sent.empty() && secrets_equal(sent, session.csrf);
}

}  // namespace btd::rpc::transport
