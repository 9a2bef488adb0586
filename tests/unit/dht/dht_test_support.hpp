#pragma once
// Small helpers shared by the DHT unit tests: ids with chosen leading bytes, endpoints, a
// deterministic random source.
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <random>
#include <string>

#include "core/dht/krpc.hpp"

namespace btd::dht::test {

inline NodeId id_of(std::uint8_t first, std::uint8_t second = 0, std::uint8_t last = 0) {
    NodeId id{};
    id[0] = first;
    id[1] = second;
    id[19] = last;
    return id;
}

inline NodeId id_from_string(std::string_view twenty) {
    return hash_from_bytes(twenty);
}

inline Endpoint endpoint(const std::string& address, std::uint16_t port) {
    return {boost::asio::ip::make_address(address), port};
}

// A distinct IPv4 endpoint per number, so one-node-per-address never gets in the way.
inline Endpoint endpoint_for(std::uint32_t n) {
    return {boost::asio::ip::address_v4(0x0a000000u + n + 1), 6881};
}

inline NodeId random_id(std::mt19937& rng) {
    NodeId id;
    for (auto& b : id) b = static_cast<std::uint8_t>(rng());
    return id;
}

}  // namespace btd::dht::test
