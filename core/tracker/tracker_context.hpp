#pragma once
// What all announcers of a session share: settings, the TLS context and the BEP 15 connection-id
// cache. Everything here is touched only from the network thread.
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "core/tracker/announcer.hpp"
#include "core/util/bind_target.hpp"

namespace btd::tracker {

struct TrackerSettings {
    std::chrono::milliseconds http_timeout{20'000};    // whole request, redirects included
    std::size_t max_response_bytes = 2 * 1024 * 1024;  // HTTP body limit
    int max_redirects = 3;
    // BEP 15 retransmits after base * 2^n. The spec goes to n = 8 (over an hour); a daemon
    // reporting a dead tracker after n = 3 (15+30+60+120 s) and moving on is more useful.
    std::chrono::milliseconds udp_base_timeout{15'000};
    int udp_max_retransmits = 3;
    std::chrono::seconds udp_connection_id_lifetime{60};  // BEP 15: usable for one minute
    std::chrono::milliseconds stop_timeout{3'000};        // `stopped` must not delay shutdown
    int numwant = 200;
    // After a failed round (no tracker answered) wait this long, doubling up to the cap.
    std::chrono::seconds retry_base{60};
    std::chrono::seconds retry_max{30 * 60};
    // Floor between announces when the tracker gave no "min interval" (reannounce_now()).
    std::chrono::seconds default_min_interval{60};
    BindTarget bind;  // announces only from this address or interface (bind_interface)
};

struct TrackerContext::State {
    explicit State(boost::asio::io_context& io);

    struct UdpConnection {
        std::uint64_t id = 0;
        std::chrono::steady_clock::time_point obtained;
    };

    boost::asio::io_context& io;
    boost::asio::ssl::context tls;
    TrackerSettings settings;
    std::map<std::string, UdpConnection> udp_connections;  // key "host:port"
    std::mt19937 rng;

    std::uint32_t random_u32();
};

}  // namespace btd::tracker
