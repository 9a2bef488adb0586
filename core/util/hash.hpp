#pragma once
// 20-byte identifiers (SHA-1 digests, info-hashes, peer ids) and hex helpers.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace btd {

using Sha1Hash = std::array<std::uint8_t, 20>;
using PeerId = std::array<std::uint8_t, 20>;

Sha1Hash sha1(std::span<const std::uint8_t> data);
Sha1Hash sha1(std::string_view data);

// Incremental SHA-1 for hashing a piece block by block.
class Sha1Hasher {
  public:
    Sha1Hasher();
    ~Sha1Hasher();
    Sha1Hasher(const Sha1Hasher&) = delete;
    Sha1Hasher& operator=(const Sha1Hasher&) = delete;
    void update(std::span<const std::uint8_t> data);
    Sha1Hash finish();

  private:
    void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay out of ours
};

std::string to_hex(std::span<const std::uint8_t> bytes);
std::optional<Sha1Hash> sha1_from_hex(std::string_view hex);
inline std::string_view as_chars(const Sha1Hash& h) {
    return {reinterpret_cast<const char*>(h.data()), h.size()};
}
Sha1Hash hash_from_bytes(std::string_view twenty_bytes);  // precondition: size 20

// kPeerIdPrefix (core/util/peer_id.hpp: "-BD0100-" for 0.1.0) and 12 random bytes.
PeerId make_peer_id();
inline constexpr std::string_view kClientName = "btd";
inline constexpr std::string_view kClientVersion = "0.1.0";

// Cryptographically random bytes (OpenSSL RAND_bytes).
void random_bytes(std::span<std::uint8_t> out);

// The order of std::less<Sha1Hash> (byte by byte), as three integer compares instead of a call to
// memcmp: lookups in maps keyed by info-hash were 11 % of the CPU of restarting 10,000 torrents.
struct Sha1HashLess {
    bool operator()(const Sha1Hash& a, const Sha1Hash& b) const noexcept {
        for (std::size_t at = 0; at < 16; at += 8) {
            auto x = big_endian(a, at, 8), y = big_endian(b, at, 8);
            if (x != y) return x < y;
        }
        return big_endian(a, 16, 4) < big_endian(b, 16, 4);
    }
    static std::uint64_t big_endian(const Sha1Hash& h, std::size_t at, std::size_t n) noexcept {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v = (v << 8) | h[at + i];
        return v;
    }
};

struct Sha1HashHasher {
    std::size_t operator()(const Sha1Hash& h) const noexcept {
        std::size_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | h[i];
        return v;
    }
};

}  // namespace btd
