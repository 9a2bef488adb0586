// libFuzzer target: the peer wire protocol as a stream from a remote peer (core/peer/wire).
// The input is what the socket delivers: the 68-byte handshake, then length-prefixed frames.
// The framing loop is PeerConnection::process_input's (core/peer/peer_connection.cpp), which
// drives a socket and cannot run here: same handshake check, same max_frame limit before
// buffering, same decode_message per frame. Every decoded message must re-encode to the exact
// frame it came from, and extension handshakes go on to their decoder.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/peer/extension.hpp"
#include "core/peer/wire.hpp"

namespace wire = btd::wire;

namespace {

constexpr std::size_t kMaxFrame = 1 << 20;  // PeerConnection::Options::max_frame's default

std::string reencode(const wire::Message& m) {
    std::string out;
    switch (m.type) {
        case wire::MsgType::keep_alive:
            wire::append_keep_alive(out);
            break;
        case wire::MsgType::have:
            wire::append_have(out, m.piece);
            break;
        case wire::MsgType::bitfield:
            wire::append_bitfield(out, m.payload);
            break;
        case wire::MsgType::request:
        case wire::MsgType::cancel:
        case wire::MsgType::reject_request:
            wire::append_request(out, m.type, m.piece, m.offset, m.length);
            break;
        case wire::MsgType::piece:
            wire::append_piece_header(out, m.piece, m.offset, m.length);
            out.append(m.payload);
            break;
        case wire::MsgType::suggest_piece:
        case wire::MsgType::allowed_fast:
            wire::append_piece_index(out, m.type, m.piece);
            break;
        case wire::MsgType::port:
            wire::append_port(out, m.port);
            break;
        case wire::MsgType::extended:
            wire::append_extended(out, m.ext_id, m.payload);
            break;
        default:
            wire::append_simple(out, m.type);
            break;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view stream(reinterpret_cast<const char*>(data), size);
    if (stream.size() < wire::kHandshakeSize) return 0;
    auto hs = wire::decode_handshake(stream.substr(0, wire::kHandshakeSize));
    if (!hs) return 0;
    if (wire::encode_handshake(*hs) != stream.substr(0, wire::kHandshakeSize)) std::abort();
    (void)wire::client_name(hs->peer_id);
    stream.remove_prefix(wire::kHandshakeSize);
    while (stream.size() >= 4) {
        std::uint32_t len = wire::read_u32(stream.data());
        if (len > kMaxFrame) return 0;                       // the connection closes
        if (stream.size() < 4 + std::size_t(len)) return 0;  // waits for more bytes
        std::string_view frame = stream.substr(0, 4 + len);
        stream.remove_prefix(4 + len);
        wire::Message msg;
        try {
            msg = wire::decode_message(frame.substr(4));
        } catch (const wire::ProtocolError&) {
            return 0;  // the connection closes
        }
        if (reencode(msg) != frame) std::abort();
        if (msg.type == wire::MsgType::extended && msg.ext_id == 0)
            (void)wire::decode_extension_handshake(msg.payload);
    }
    return 0;
}
