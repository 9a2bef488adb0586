#pragma once
// Tracker requests over HTTP(S): the engine's bounded GET client (core/util/http_get.hpp) with the
// limits and TLS context of the tracker settings, as a cancellable PendingRequest.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/tracker/tracker_client.hpp"
#include "core/util/http_get.hpp"

namespace btd::tracker {

using HttpResult = btd::HttpResult;

std::shared_ptr<PendingRequest> http_get(TrackerContext& ctx, const std::string& url,
                                         std::chrono::milliseconds timeout,
                                         std::function<void(HttpResult)> handler);

}  // namespace btd::tracker
