#include "core/util/hash.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "core/util/peer_id.hpp"

namespace btd {

Sha1Hash sha1(std::span<const std::uint8_t> data) {
    Sha1Hasher h;
    h.update(data);
    return h.finish();
}

Sha1Hash sha1(std::string_view data) {
    return sha1(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

Sha1Hasher::Sha1Hasher() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha1(), nullptr) != 1)
        throw std::runtime_error("OpenSSL SHA-1 initialisation failed");
}

Sha1Hasher::~Sha1Hasher() {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Sha1Hasher::update(std::span<const std::uint8_t> data) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Sha1Hash Sha1Hasher::finish() {
    Sha1Hash out{};
    unsigned len = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len);
    return out;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 15]);
    }
    return out;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<Sha1Hash> sha1_from_hex(std::string_view hex) {
    if (hex.size() != 40) return std::nullopt;
    Sha1Hash out{};
    for (std::size_t i = 0; i < 20; ++i) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return out;
}

Sha1Hash hash_from_bytes(std::string_view s) {
    Sha1Hash out{};
    for (std::size_t i = 0; i < out.size() && i < s.size(); ++i)
        out[i] = static_cast<std::uint8_t>(s[i]);
    return out;
}

void random_bytes(std::span<std::uint8_t> out) {
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
        throw std::runtime_error("OpenSSL RAND_bytes failed");
}

PeerId make_peer_id() {
    PeerId id{};
    for (std::size_t i = 0; i < kPeerIdPrefix.size(); ++i)
        id[i] = static_cast<std::uint8_t>(kPeerIdPrefix[i]);
    random_bytes(std::span(id).subspan(kPeerIdPrefix.size()));
    return id;
}

}  // namespace btd
