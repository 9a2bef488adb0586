#pragma once
// BitTorrent peer wire protocol (BEP 3, BEP 6 Fast extension, BEP 10 extended messages):
// handshake and message encoding/decoding. Pure functions, no I/O.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/util/hash.hpp"

namespace btd::wire {

inline constexpr std::size_t kHandshakeSize = 68;
inline constexpr std::string_view kProtocol = "BitTorrent protocol";
inline constexpr std::uint32_t kMaxBlockLength = 16 * 1024;  // largest request we serve

enum class MsgType : std::uint8_t {
    choke = 0,
    unchoke = 1,
    interested = 2,
    not_interested = 3,
    have = 4,
    bitfield = 5,
    request = 6,
    piece = 7,
    cancel = 8,
    port = 9,
    suggest_piece = 13,  // BEP 6
    have_all = 14,
    have_none = 15,
    reject_request = 16,
    allowed_fast = 17,
    extended = 20,     // BEP 10
    keep_alive = 255,  // not on the wire: a zero-length frame
};

struct Handshake {
    std::array<std::uint8_t, 8> reserved{};
    Sha1Hash info_hash{};
    PeerId peer_id{};
    bool supports_fast() const { return reserved[7] & 0x04; }
    bool supports_extended() const { return reserved[5] & 0x10; }
};

std::string encode_handshake(const Handshake& hs);
// nullopt if the protocol string is wrong (not a BitTorrent peer).
std::optional<Handshake> decode_handshake(std::string_view data);            // data.size() == 68
Handshake make_handshake(const Sha1Hash& info_hash, const PeerId& peer_id);  // with our bits

class ProtocolError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A decoded message. `payload` views the frame (bitfield bytes, block data, extended payload).
struct Message {
    MsgType type = MsgType::keep_alive;
    std::uint32_t piece = 0;   // have, request, piece, cancel, suggest, reject, allowed_fast
    std::uint32_t offset = 0;  // request, piece, cancel, reject
    std::uint32_t length = 0;  // request, cancel, reject
    std::uint16_t port = 0;    // port
    std::uint8_t ext_id = 0;   // extended
    std::string_view payload;
};

// Decodes one frame body (after the 4-byte length prefix). Throws ProtocolError on a malformed
// or unknown message; the caller disconnects.
Message decode_message(std::string_view body);

// Encoders append a complete frame (length prefix included) to `out`.
void append_simple(std::string& out, MsgType type);  // choke, unchoke, interested, ...
void append_keep_alive(std::string& out);
void append_have(std::string& out, std::uint32_t piece);
void append_bitfield(std::string& out, std::string_view bits);
void append_request(std::string& out, MsgType type, std::uint32_t piece, std::uint32_t offset,
                    std::uint32_t length);  // request, cancel, reject_request
void append_piece_header(std::string& out, std::uint32_t piece, std::uint32_t offset,
                         std::uint32_t data_length);  // block bytes follow
void append_piece_index(std::string& out, MsgType type,
                        std::uint32_t piece);  // suggest, allowed_fast
void append_port(std::string& out, std::uint16_t port);
void append_extended(std::string& out, std::uint8_t ext_id, std::string_view payload);

inline std::uint32_t read_u32(const char* p) {
    auto b = reinterpret_cast<const unsigned char*>(p);
    return (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) |
           std::uint32_t(b[3]);
}
void append_u32(std::string& out, std::uint32_t v);

// Azureus-style peer id ("-XX1234-") to a readable client name, or "unknown".
std::string client_name(const PeerId& id);

}  // namespace btd::wire
