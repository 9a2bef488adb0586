#pragma once
// Minimal HTTP(S) GET for tracker requests (Beast): one connection per request, redirects
// (http/https only) followed up to settings.max_redirects, body capped at
// settings.max_response_bytes, whole exchange bounded by one deadline. TLS verifies the peer
// against the system CA store and the URL's host name, with SNI set.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/tracker/tracker_client.hpp"

namespace btd::tracker {

struct HttpResult {
    std::string error;  // transport problem; empty if a response arrived (any status)
    unsigned status = 0;
    std::string body;
};

std::shared_ptr<PendingRequest> http_get(TrackerContext& ctx, const std::string& url,
                                         std::chrono::milliseconds timeout,
                                         std::function<void(HttpResult)> handler);

}  // namespace btd::tracker
