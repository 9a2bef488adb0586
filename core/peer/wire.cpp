#include "core/peer/wire.hpp"

#include <cctype>

namespace btd::wire {

void append_u32(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>(v >> 24));
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v));
}

std::string encode_handshake(const Handshake& hs) {
    std::string out;
    out.reserve(kHandshakeSize);
    out.push_back(static_cast<char>(kProtocol.size()));
    out.append(kProtocol);
    out.append(reinterpret_cast<const char*>(hs.reserved.data()), hs.reserved.size());
    out.append(as_chars(hs.info_hash));
    out.append(reinterpret_cast<const char*>(hs.peer_id.data()), hs.peer_id.size());
    return out;
}

std::optional<Handshake> decode_handshake(std::string_view data) {
    if (data.size() != kHandshakeSize || static_cast<unsigned char>(data[0]) != kProtocol.size() ||
        data.substr(1, kProtocol.size()) != kProtocol)
        return std::nullopt;
    Handshake hs;
    auto p = reinterpret_cast<const std::uint8_t*>(data.data()) + 20;
    std::copy(p, p + 8, hs.reserved.begin());
    std::copy(p + 8, p + 28, hs.info_hash.begin());
    std::copy(p + 28, p + 48, hs.peer_id.begin());
    return hs;
}

Handshake make_handshake(const Sha1Hash& info_hash, const PeerId& peer_id) {
    Handshake hs;
    hs.reserved[5] |= 0x10;  // BEP 10 extension protocol
    hs.reserved[7] |= 0x04;  // BEP 6 Fast extension
    hs.info_hash = info_hash;
    hs.peer_id = peer_id;
    return hs;
}

static void expect_size(std::string_view body, std::size_t size, const char* what) {
    if (body.size() != size)
        throw ProtocolError(std::string("malformed ") + what +
                            " message: " + std::to_string(body.size()) + " bytes");
}

Message decode_message(std::string_view body) {
    Message m;
    if (body.empty()) return m;  // keep-alive
    auto id = static_cast<std::uint8_t>(body[0]);
    const char* p = body.data() + 1;
    switch (id) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 14:
        case 15:
            expect_size(body, 1, "state");
            m.type = static_cast<MsgType>(id);
            return m;
        case 4:
        case 13:
        case 17:
            expect_size(body, 5, "have/suggest/allowed-fast");
            m.type = static_cast<MsgType>(id);
            m.piece = read_u32(p);
            return m;
        case 5:
            m.type = MsgType::bitfield;
            m.payload = body.substr(1);
            return m;
        case 6:
        case 8:
        case 16:
            expect_size(body, 13, "request/cancel/reject");
            m.type = static_cast<MsgType>(id);
            m.piece = read_u32(p);
            m.offset = read_u32(p + 4);
            m.length = read_u32(p + 8);
            return m;
        case 7:
            if (body.size() < 9) throw ProtocolError("malformed piece message: too short");
            m.type = MsgType::piece;
            m.piece = read_u32(p);
            m.offset = read_u32(p + 4);
            m.payload = body.substr(9);
            m.length = static_cast<std::uint32_t>(m.payload.size());
            return m;
        case 9:
            expect_size(body, 3, "port");
            m.type = MsgType::port;
            m.port = static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                                static_cast<unsigned char>(p[1]));
            return m;
        case 20:
            if (body.size() < 2) throw ProtocolError("malformed extended message: too short");
            m.type = MsgType::extended;
            m.ext_id = static_cast<std::uint8_t>(body[1]);
            m.payload = body.substr(2);
            return m;
        default:
            throw ProtocolError("unknown message id " + std::to_string(id));
    }
}

void append_simple(std::string& out, MsgType type) {
    append_u32(out, 1);
    out.push_back(static_cast<char>(type));
}

void append_keep_alive(std::string& out) {
    append_u32(out, 0);
}

void append_have(std::string& out, std::uint32_t piece) {
    append_piece_index(out, MsgType::have, piece);
}

void append_piece_index(std::string& out, MsgType type, std::uint32_t piece) {
    append_u32(out, 5);
    out.push_back(static_cast<char>(type));
    append_u32(out, piece);
}

void append_bitfield(std::string& out, std::string_view bits) {
    append_u32(out, static_cast<std::uint32_t>(bits.size() + 1));
    out.push_back(static_cast<char>(MsgType::bitfield));
    out.append(bits);
}

void append_request(std::string& out, MsgType type, std::uint32_t piece, std::uint32_t offset,
                    std::uint32_t length) {
    append_u32(out, 13);
    out.push_back(static_cast<char>(type));
    append_u32(out, piece);
    append_u32(out, offset);
    append_u32(out, length);
}

void append_piece_header(std::string& out, std::uint32_t piece, std::uint32_t offset,
                         std::uint32_t data_length) {
    append_u32(out, 9 + data_length);
    out.push_back(static_cast<char>(MsgType::piece));
    append_u32(out, piece);
    append_u32(out, offset);
}

void append_port(std::string& out, std::uint16_t port) {
    append_u32(out, 3);
    out.push_back(static_cast<char>(MsgType::port));
    out.push_back(static_cast<char>(port >> 8));
    out.push_back(static_cast<char>(port & 0xff));
}

void append_extended(std::string& out, std::uint8_t ext_id, std::string_view payload) {
    append_u32(out, static_cast<std::uint32_t>(payload.size() + 2));
    out.push_back(static_cast<char>(MsgType::extended));
    out.push_back(static_cast<char>(ext_id));
    out.append(payload);
}

std::string client_name(const PeerId& id) {
    auto c = [&](int i) { return static_cast<char>(id[i]); };
    if (c(0) != '-' || c(7) != '-') return "unknown";
    std::string code{c(1), c(2)};
    static const std::pair<const char*, const char*> kKnownClients[] = {
        {"LT", "libtorrent"},   {"BD", "btd"},
        {"TR", "Transmission"}, {"qB", "qBittorrent"},
        {"DE", "Deluge"},       {"UT", "uTorrent"},
        {"AZ", "Azureus"},      {"lt", "libTorrent (rakshasa)"},
        {"A2", "aria2"}};
    std::string name = code;
    for (auto& [k, v] : kKnownClients)
        if (code == k) name = v;
    std::string version;
    for (int i = 3; i < 7; ++i) {
        char ch = c(i);
        if (!std::isalnum(static_cast<unsigned char>(ch))) return name;
        if (!version.empty()) version.push_back('.');
        version.push_back(ch);
    }
    return name + " " + version;
}

}  // namespace btd::wire
