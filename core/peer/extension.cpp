#include "core/peer/extension.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "core/bencode/bencode.hpp"
#include "core/util/hash.hpp"

namespace btd::wire {

std::string encode_extension_handshake(const ExtensionHandshake& hs) {
    bencode::Dict m;
    for (const auto& [name, id] : hs.messages) m[name] = bencode::make_int(id);
    bencode::Dict d;
    d["m"] = bencode::make_dict(std::move(m));
    if (hs.listen_port) d["p"] = bencode::make_int(hs.listen_port);
    if (hs.request_queue) d["reqq"] = bencode::make_int(hs.request_queue);
    if (hs.metadata_size > 0) d["metadata_size"] = bencode::make_int(hs.metadata_size);
    if (!hs.client.empty()) d["v"] = bencode::make_string(hs.client);
    return bencode::encode(bencode::make_dict(std::move(d)));
}

std::optional<ExtensionHandshake> decode_extension_handshake(std::string_view payload) {
    bencode::Value v;
    try {
        bencode::Limits limits;
        limits.max_depth = 8;
        limits.max_input = 64 * 1024;
        v = bencode::decode(payload, limits);
    } catch (const bencode::DecodeError&) {
        return std::nullopt;
    }
    if (!v.is_dict()) return std::nullopt;
    ExtensionHandshake hs;
    if (auto* m = v.find("m"); m && m->is_dict())
        for (const auto& [name, id] : m->as_dict())
            if (id.is_int() && id.as_int() >= 0 && id.as_int() <= 255)
                hs.messages[name] = static_cast<int>(id.as_int());
    if (auto* c = v.find("v"); c && c->is_string()) hs.client = c->as_string().substr(0, 64);
    if (auto* p = v.find("p"); p && p->is_int() && p->as_int() > 0 && p->as_int() < 65536)
        hs.listen_port = static_cast<std::uint16_t>(p->as_int());
    if (auto* q = v.find("reqq"); q && q->is_int() && q->as_int() > 0)
        hs.request_queue = static_cast<int>(std::min<std::int64_t>(q->as_int(), 100000));
    // Range-checked by its user (handshake_metadata_size); here only a positive integer.
    if (auto* s = v.find("metadata_size"); s && s->is_int() && s->as_int() > 0)
        hs.metadata_size = s->as_int();
    return hs;
}

std::vector<std::uint32_t> allowed_fast_set(std::uint32_t ipv4,
                                            const std::array<std::uint8_t, 20>& info_hash,
                                            std::uint32_t num_pieces, std::size_t k) {
    // The canonical algorithm from BEP 6: hash (masked IP || info-hash) repeatedly.
    std::vector<std::uint32_t> out;
    if (num_pieces == 0) return out;
    k = std::min<std::size_t>(k, num_pieces);
    std::uint32_t masked = ipv4 & 0xffffff00u;
    std::string x;
    x.push_back(static_cast<char>(masked >> 24));
    x.push_back(static_cast<char>(masked >> 16));
    x.push_back(static_cast<char>(masked >> 8));
    x.push_back(static_cast<char>(masked));
    x.append(reinterpret_cast<const char*>(info_hash.data()), info_hash.size());
    while (out.size() < k) {
        auto h = sha1(std::string_view(x));
        x.assign(reinterpret_cast<const char*>(h.data()), h.size());
        for (int i = 0; i < 5 && out.size() < k; ++i) {
            std::uint32_t y = (std::uint32_t(h[4 * i]) << 24) |
                              (std::uint32_t(h[4 * i + 1]) << 16) |
                              (std::uint32_t(h[4 * i + 2]) << 8) | std::uint32_t(h[4 * i + 3]);
            std::uint32_t index = y % num_pieces;
            if (std::find(out.begin(), out.end(), index) == out.end()) out.push_back(index);
        }
    }
    return out;
}

}  // namespace btd::wire
