#pragma once
// BEP 10 extension protocol handshake (extended message id 0). Later extensions (metadata
// exchange, PEX) register their message names in `messages`.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace btd::wire {

struct ExtensionHandshake {
    std::map<std::string, int> messages;  // "m": extension name -> message id (0 = disabled)
    std::string client;                   // "v"
    std::uint16_t listen_port = 0;        // "p"
    int request_queue = 0;                // "reqq": requests the peer queues (0 = not sent)
    std::int64_t metadata_size = 0;       // "metadata_size" (BEP 9): info dict bytes, 0 = not sent
};

std::string encode_extension_handshake(const ExtensionHandshake& hs);
// nullopt if the payload is not a bencoded dictionary; bad fields are ignored, not fatal.
std::optional<ExtensionHandshake> decode_extension_handshake(std::string_view payload);

// BEP 6 allowed-fast set for an IPv4 peer: k piece indices derived from its address.
std::vector<std::uint32_t> allowed_fast_set(std::uint32_t ipv4,
                                            const std::array<std::uint8_t, 20>& info_hash,
                                            std::uint32_t num_pieces, std::size_t k);

}  // namespace btd::wire
