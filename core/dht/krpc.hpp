#pragma once
// KRPC (BEP 5), the DHT's message format, with BEP 32 (IPv6 nodes, "want"), BEP 42 ("ip") and
// BEP 43 ("ro"). decode() never throws: anything malformed comes back as a DecodeFailure that
// says what is wrong and carries the transaction id when one could be read, so the caller can
// answer with a KRPC error. Pure functions, no I/O; any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/dht/node_id.hpp"

namespace btd::dht {

struct NodeInfo {
    NodeId id{};
    Endpoint endpoint;
    friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

enum class Method { ping, find_node, get_peers, announce_peer };

struct Query {
    Method method = Method::ping;
    NodeId id{};                // the querying node
    NodeId target{};            // find_node "target"; get_peers / announce_peer "info_hash"
    std::uint16_t port = 0;     // announce_peer
    bool implied_port = false;  // announce_peer: use the packet's source port instead
    std::string token;          // announce_peer: from an earlier get_peers reply
    bool want_v4 = false;       // BEP 32 "want": "n4"
    bool want_v6 = false;       // "n6"
    friend bool operator==(const Query&, const Query&) = default;
};

struct Response {
    NodeId id{};                   // the responding node
    std::vector<NodeInfo> nodes;   // "nodes" (IPv4) then "nodes6" (IPv6)
    std::vector<Endpoint> values;  // get_peers: peers of the torrent, IPv4 and IPv6
    std::string token;             // get_peers: pass back in announce_peer
    friend bool operator==(const Response&, const Response&) = default;
};

struct Error {
    std::int64_t code = 201;
    std::string message;
    friend bool operator==(const Error&, const Error&) = default;
};

namespace error_code {
inline constexpr int kGeneric = 201;
inline constexpr int kServer = 202;
inline constexpr int kProtocol = 203;
inline constexpr int kMethodUnknown = 204;
}  // namespace error_code

struct Message {
    std::string transaction_id;  // "t", opaque, echoed in the reply
    std::variant<Query, Response, Error> body;
    std::optional<Endpoint> requester;  // "ip" (BEP 42): how the sender sees the requester
    bool read_only = false;             // "ro" (BEP 43), queries only
    std::string version;                // "v", client version, may be empty
    friend bool operator==(const Message&, const Message&) = default;
};

struct DecodeFailure {
    std::string transaction_id;  // empty if none could be read: then do not answer
    int code = error_code::kProtocol;
    std::string reason;
};

using DecodeResult = std::variant<Message, DecodeFailure>;

struct KrpcLimits {
    std::size_t max_packet = 4096;        // DHT packets fit in one UDP datagram of ~1.5 KB
    std::size_t max_transaction_id = 16;  // clients use 2 to 4 bytes
    std::size_t max_token = 64;
    std::size_t max_version = 16;
    std::size_t max_nodes = 32;  // per family; BEP 5 replies carry 8
    std::size_t max_values = 200;
    std::size_t max_error_message = 256;  // longer messages are cut, not refused
};

DecodeResult decode_krpc(std::string_view packet, const KrpcLimits& limits = {});
std::string encode_krpc(const Message& message);

// Compact node info: 20-byte id + 4-byte IPv4 + port (26 bytes), or + 16-byte IPv6 (38 bytes).
// Entries with port 0 are skipped; nullopt if the length is not a multiple of the entry size.
std::optional<std::vector<NodeInfo>> parse_compact_nodes(std::string_view bytes, bool ipv6);
std::string compact_nodes(const std::vector<NodeInfo>& nodes, bool ipv6);  // other family skipped
// Compact endpoint: 6 or 18 bytes. nullopt for any other length.
std::optional<Endpoint> parse_compact_endpoint(std::string_view bytes);
std::string compact_endpoint(const Endpoint& endpoint);

std::string_view method_name(Method method);

}  // namespace btd::dht
