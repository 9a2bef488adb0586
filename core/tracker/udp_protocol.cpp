#include "core/tracker/udp_protocol.hpp"

#include "core/tracker/response_parser.hpp"

namespace btd::tracker::udp {
namespace {

class Writer {
  public:
    void u32(std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) out_ += static_cast<char>((v >> shift) & 0xff);
    }
    void u64(std::uint64_t v) {
        u32(static_cast<std::uint32_t>(v >> 32));
        u32(static_cast<std::uint32_t>(v));
    }
    void u16(std::uint16_t v) {
        out_ += static_cast<char>(v >> 8);
        out_ += static_cast<char>(v & 0xff);
    }
    void bytes(std::string_view b) { out_ += b; }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

std::uint32_t read_u32(std::string_view p, std::size_t at) {
    auto b = reinterpret_cast<const unsigned char*>(p.data() + at);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
}

std::uint64_t read_u64(std::string_view p, std::size_t at) {
    return (std::uint64_t{read_u32(p, at)} << 32) | read_u32(p, at + 4);
}

// Common checks: error packets, transaction id, expected action, minimum size.
void check_response(std::string_view packet, std::uint32_t transaction_id, Action expected,
                    std::size_t min_size) {
    auto header = peek_header(packet);
    if (!header) throw TrackerError("UDP tracker reply is too short");
    if (header->transaction_id != transaction_id)
        throw TrackerError("UDP tracker reply has the wrong transaction id");
    if (header->action == Action::error)
        throw TrackerFailure(sanitize_tracker_text(packet.substr(8)));
    if (header->action != expected)
        throw TrackerError("UDP tracker reply has unexpected action " +
                           std::to_string(static_cast<std::uint32_t>(header->action)));
    if (packet.size() < min_size)
        throw TrackerError("UDP tracker reply is truncated (" + std::to_string(packet.size()) +
                           " bytes)");
}

int to_count(std::uint32_t v) {
    return v > 100'000'000 ? -1 : static_cast<int>(v);
}

}  // namespace

std::uint32_t event_code(Event e) {
    switch (e) {
        case Event::completed:
            return 1;
        case Event::started:
            return 2;
        case Event::stopped:
            return 3;
        case Event::none:
            break;
    }
    return 0;
}

std::optional<Header> peek_header(std::string_view packet) {
    if (packet.size() < 8) return std::nullopt;
    return Header{static_cast<Action>(read_u32(packet, 0)), read_u32(packet, 4)};
}

std::string encode_connect(std::uint32_t transaction_id) {
    Writer w;
    w.u64(kProtocolId);
    w.u32(static_cast<std::uint32_t>(Action::connect));
    w.u32(transaction_id);
    return w.take();
}

std::uint64_t decode_connect(std::string_view packet, std::uint32_t transaction_id) {
    check_response(packet, transaction_id, Action::connect, 16);
    return read_u64(packet, 8);
}

std::string encode_announce(std::uint64_t connection_id, std::uint32_t transaction_id,
                            const AnnounceParams& p) {
    Writer w;
    w.u64(connection_id);
    w.u32(static_cast<std::uint32_t>(Action::announce));
    w.u32(transaction_id);
    w.bytes(as_chars(p.info_hash));
    w.bytes(as_chars(p.peer_id));
    w.u64(static_cast<std::uint64_t>(p.downloaded));
    w.u64(static_cast<std::uint64_t>(p.left));
    w.u64(static_cast<std::uint64_t>(p.uploaded));
    w.u32(event_code(p.event));
    w.u32(0);  // IP: let the tracker use the packet's source address
    w.u32(p.key);
    w.u32(static_cast<std::uint32_t>(p.numwant));
    w.u16(p.port);
    return w.take();
}

AnnounceResponse decode_announce(std::string_view packet, std::uint32_t transaction_id, bool ipv6) {
    check_response(packet, transaction_id, Action::announce, 20);
    AnnounceResponse r;
    std::uint32_t interval = read_u32(packet, 8);
    r.interval = clamp_interval(static_cast<std::int64_t>(interval));
    r.leechers = to_count(read_u32(packet, 12));
    r.seeders = to_count(read_u32(packet, 16));
    std::string_view peers = packet.substr(20);
    r.peers = ipv6 ? parse_compact_peers_v6(peers) : parse_compact_peers_v4(peers);
    return r;
}

std::string encode_scrape(std::uint64_t connection_id, std::uint32_t transaction_id,
                          std::span<const Sha1Hash> info_hashes) {
    Writer w;
    w.u64(connection_id);
    w.u32(static_cast<std::uint32_t>(Action::scrape));
    w.u32(transaction_id);
    for (const auto& h : info_hashes) w.bytes(as_chars(h));
    return w.take();
}

std::vector<ScrapeInfo> decode_scrape(std::string_view packet, std::uint32_t transaction_id,
                                      std::size_t expected_count) {
    check_response(packet, transaction_id, Action::scrape, 8 + 12 * expected_count);
    std::vector<ScrapeInfo> out;
    for (std::size_t i = 0; i < expected_count; ++i) {
        std::size_t at = 8 + 12 * i;
        ScrapeInfo info;
        info.seeders = to_count(read_u32(packet, at));
        info.downloaded = to_count(read_u32(packet, at + 4));
        info.leechers = to_count(read_u32(packet, at + 8));
        out.push_back(info);
    }
    return out;
}

}  // namespace btd::tracker::udp
