#pragma once
// DHT node ids (BEP 5): 160-bit ids compared by XOR distance, and the BEP 42 rule that ties a
// node's id to its external IP address. Pure functions; any thread.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>

#include "core/util/hash.hpp"

namespace btd::dht {

using NodeId = Sha1Hash;  // same space as info-hashes: get_peers looks up an info-hash
using Address = boost::asio::ip::address;
using Endpoint = boost::asio::ip::udp::endpoint;

inline constexpr int kIdBits = 160;

NodeId xor_distance(const NodeId& a, const NodeId& b);
// True if `a` is strictly closer to `target` than `b`.
bool closer_to(const NodeId& target, const NodeId& a, const NodeId& b);
// Leading bits shared by a and b, 0..160.
int common_prefix_bits(const NodeId& a, const NodeId& b);

// BEP 42: the first 21 bits of the id come from crc32c of the masked address and the 3-bit `r`;
// bytes 3..18 come from `random`; the last byte is `r`.
NodeId bep42_node_id(const Address& external, std::uint8_t r, const NodeId& random);
// True if `id` is one bep42_node_id could have made for `address`.
bool bep42_id_matches(const NodeId& id, const Address& address);
// Loopback, private and link-local addresses are exempt from BEP 42 (they do not identify a host).
bool bep42_exempt(const Address& address);

// A fresh random id (for a node whose external address is not known yet).
NodeId random_node_id();

}  // namespace btd::dht
