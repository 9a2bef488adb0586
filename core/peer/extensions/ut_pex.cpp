#include "core/peer/extensions/ut_pex.hpp"

#include <set>

#include "core/bencode/bencode.hpp"

namespace btd::wire {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using bencode::Value;

constexpr std::size_t kV4Size = 6;
constexpr std::size_t kV6Size = 18;
constexpr std::size_t kMaxPayload = 64 * 1024;

void append_endpoint(std::string& out, const tcp::endpoint& ep) {
    if (ep.address().is_v4()) {
        auto b = ep.address().to_v4().to_bytes();
        out.append(reinterpret_cast<const char*>(b.data()), b.size());
    } else {
        auto b = ep.address().to_v6().to_bytes();
        out.append(reinterpret_cast<const char*>(b.data()), b.size());
    }
    out += static_cast<char>(ep.port() >> 8);
    out += static_cast<char>(ep.port() & 0xff);
}

tcp::endpoint read_endpoint(const unsigned char* p, std::size_t entry_size) {
    std::uint16_t port = static_cast<std::uint16_t>((p[entry_size - 2] << 8) | p[entry_size - 1]);
    if (entry_size == kV4Size)
        return {asio::ip::address_v4(asio::ip::address_v4::bytes_type{p[0], p[1], p[2], p[3]}),
                port};
    asio::ip::address_v6::bytes_type raw;
    std::copy(p, p + 16, raw.begin());
    return {asio::ip::address_v6(raw), port};
}

struct Lists {
    std::string added, added_flags, dropped;
};

// One family's peers as a compact string, with flags when added.
std::vector<tcp::endpoint> parse_list(const Value& root, std::string_view key,
                                      std::size_t entry_size) {
    std::vector<tcp::endpoint> out;
    const Value* v = root.find(key);
    if (!v) return out;
    if (!v->is_string()) throw ProtocolError("ut_pex '" + std::string(key) + "' is not a string");
    const std::string& s = v->as_string();
    if (s.size() % entry_size != 0)
        throw ProtocolError("ut_pex '" + std::string(key) + "' length " + std::to_string(s.size()) +
                            " is not a multiple of " + std::to_string(entry_size));
    for (std::size_t i = 0; i < s.size(); i += entry_size)
        out.push_back(
            read_endpoint(reinterpret_cast<const unsigned char*>(s.data() + i), entry_size));
    return out;
}

void add_peers(PexMessage& m, const Value& root, std::string_view key, std::size_t entry_size) {
    auto endpoints = parse_list(root, key, entry_size);
    const Value* f = root.find(std::string(key) + ".f");
    bool use_flags = f && f->is_string() && f->as_string().size() == endpoints.size();
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        if (endpoints[i].port() == 0) continue;
        auto flags = use_flags ? static_cast<std::uint8_t>(f->as_string()[i]) : std::uint8_t{0};
        m.added.push_back({endpoints[i], flags});
    }
}

void drop_peers(PexMessage& m, const Value& root, std::string_view key, std::size_t entry_size) {
    for (const auto& ep : parse_list(root, key, entry_size))
        if (ep.port() != 0) m.dropped.push_back(ep);
}

void check_count(std::size_t count, std::size_t limit, std::string_view what) {
    if (count > limit)
        throw ProtocolError("ut_pex message lists " + std::to_string(count) + " " +
                            std::string(what) + " peers; the limit is " + std::to_string(limit));
}

}  // namespace

std::string encode_pex(const PexMessage& message) {
    Lists v4, v6;
    for (const auto& peer : message.added) {
        Lists& l = peer.endpoint.address().is_v4() ? v4 : v6;
        append_endpoint(l.added, peer.endpoint);
        l.added_flags += static_cast<char>(peer.flags);
    }
    for (const auto& ep : message.dropped)
        append_endpoint((ep.address().is_v4() ? v4 : v6).dropped, ep);
    // Every key is sent, even empty, as libtorrent and Transmission do.
    bencode::Dict d;
    d["added"] = bencode::make_string(v4.added);
    d["added.f"] = bencode::make_string(v4.added_flags);
    d["added6"] = bencode::make_string(v6.added);
    d["added6.f"] = bencode::make_string(v6.added_flags);
    d["dropped"] = bencode::make_string(v4.dropped);
    d["dropped6"] = bencode::make_string(v6.dropped);
    return bencode::encode(bencode::make_dict(std::move(d)));
}

PexMessage decode_pex(std::string_view payload, const PexLimits& limits) {
    Value root;
    try {
        bencode::Limits b;
        b.max_depth = 4;
        b.max_input = kMaxPayload;
        b.max_items = 64;
        root = bencode::decode(payload, b);
    } catch (const bencode::DecodeError& e) {
        throw ProtocolError(std::string("ut_pex message is not bencoded: ") + e.what());
    }
    if (!root.is_dict()) throw ProtocolError("ut_pex message is not a dictionary");
    PexMessage m;
    add_peers(m, root, "added", kV4Size);
    add_peers(m, root, "added6", kV6Size);
    drop_peers(m, root, "dropped", kV4Size);
    drop_peers(m, root, "dropped6", kV6Size);
    check_count(m.added.size(), limits.max_added, "added");
    check_count(m.dropped.size(), limits.max_dropped, "dropped");
    return m;
}

PexMessage PexTracker::update(const std::vector<PexPeer>& connected) {
    std::map<tcp::endpoint, std::uint8_t> now;
    for (const auto& peer : connected)
        if (peer.endpoint != remote_) now.emplace(peer.endpoint, peer.flags);
    PexMessage m;
    for (auto it = advertised_.begin();
         it != advertised_.end() && m.dropped.size() < kPexSendLimit;) {
        if (now.contains(it->first)) {
            ++it;
            continue;
        }
        m.dropped.push_back(it->first);
        it = advertised_.erase(it);
    }
    for (const auto& peer : connected) {
        if (m.added.size() >= kPexSendLimit) break;
        if (peer.endpoint == remote_ || advertised_.contains(peer.endpoint)) continue;
        advertised_.emplace(peer.endpoint, peer.flags);
        m.added.push_back(peer);
    }
    return m;
}

}  // namespace btd::wire
