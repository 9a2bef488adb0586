#include "core/dht/node_id.hpp"

#include <boost/crc.hpp>
#include <span>
#include <vector>

namespace btd::dht {
namespace {

using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

// crc32c over the masked address with r in the top three bits (BEP 42).
std::uint32_t bep42_crc(const Address& address, std::uint8_t r) {
    Crc32c crc;
    if (address.is_v4()) {
        auto ip = address.to_v4().to_bytes();
        static constexpr std::uint8_t kMask[4] = {0x03, 0x0f, 0x3f, 0xff};
        for (int i = 0; i < 4; ++i) ip[i] &= kMask[i];
        ip[0] |= static_cast<std::uint8_t>((r & 0x7) << 5);
        crc.process_bytes(ip.data(), ip.size());
    } else {
        auto ip = address.to_v6().to_bytes();
        static constexpr std::uint8_t kMask[8] = {0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff};
        for (int i = 0; i < 8; ++i) ip[i] &= kMask[i];
        ip[0] |= static_cast<std::uint8_t>((r & 0x7) << 5);
        crc.process_bytes(ip.data(), 8);
    }
    return crc.checksum();
}

}  // namespace

NodeId xor_distance(const NodeId& a, const NodeId& b) {
    NodeId out;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = a[i] ^ b[i];
    return out;
}

bool closer_to(const NodeId& target, const NodeId& a, const NodeId& b) {
    for (std::size_t i = 0; i < target.size(); ++i) {
        std::uint8_t da = a[i] ^ target[i];
        std::uint8_t db = b[i] ^ target[i];
        if (da != db) return da < db;
    }
    return false;
}

int common_prefix_bits(const NodeId& a, const NodeId& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        std::uint8_t x = a[i] ^ b[i];
        if (x == 0) continue;
        int bits = static_cast<int>(i) * 8;
        for (int mask = 0x80; (x & mask) == 0; mask >>= 1) ++bits;
        return bits;
    }
    return kIdBits;
}

NodeId bep42_node_id(const Address& external, std::uint8_t r, const NodeId& random) {
    std::uint32_t crc = bep42_crc(external, r);
    NodeId id = random;
    id[0] = static_cast<std::uint8_t>(crc >> 24);
    id[1] = static_cast<std::uint8_t>(crc >> 16);
    id[2] = static_cast<std::uint8_t>(((crc >> 8) & 0xf8) | (random[2] & 0x7));
    id[19] = r;
    return id;
}

bool bep42_id_matches(const NodeId& id, const Address& address) {
    std::uint32_t crc = bep42_crc(address, id[19]);
    return id[0] == static_cast<std::uint8_t>(crc >> 24) &&
           id[1] == static_cast<std::uint8_t>(crc >> 16) && (id[2] & 0xf8) == ((crc >> 8) & 0xf8);
}

bool bep42_exempt(const Address& address) {
    if (address.is_v4()) {
        auto b = address.to_v4().to_bytes();
        return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
               (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
    }
    auto v6 = address.to_v6();
    if (v6.is_v4_mapped())
        return bep42_exempt(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
    auto b = v6.to_bytes();
    return v6.is_loopback() || v6.is_link_local() || (b[0] & 0xfe) == 0xfc;  // fc00::/7 ULA
}

NodeId random_node_id() {
    NodeId id;
    random_bytes(id);
    return id;
}

}  // namespace btd::dht
