#pragma once
// One BEP 15 exchange: obtain (or reuse a cached, < 60 s old) connection id for host:port, then
// send the request and wait for the matching reply, retransmitting after base * 2^n.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/tracker/announce_url.hpp"
#include "core/tracker/tracker_client.hpp"

namespace btd::tracker {

struct UdpExchange {
    // Builds the request packet for a connection id and transaction id.
    std::function<std::string(std::uint64_t connection_id, std::uint32_t transaction_id)> build;
    // Gets the reply whose transaction id matched (or an error text, then packet is empty).
    std::function<void(const std::string& error, std::string_view packet,
                       std::uint32_t transaction_id, bool ipv6)>
        done;
};

std::shared_ptr<PendingRequest> udp_exchange(TrackerContext& ctx, const Url& url,
                                             std::optional<std::chrono::milliseconds> timeout,
                                             UdpExchange exchange);

}  // namespace btd::tracker
