#include "core/discovery/lsd.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/multicast.hpp>
#include <cctype>
#include <set>

namespace btd::discovery {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// One "Name: value" line into the message; other headers (Host, ...) are ignored.
void read_header(std::string_view line, LsdMessage& m, bool& has_port) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto name = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "port")) {
        auto port = parse_port(value);
        has_port = port.has_value();
        m.port = port.value_or(0);
    } else if (iequals(name, "infohash")) {
        auto hash = sha1_from_hex(value);
        if (hash &&
            std::find(m.info_hashes.begin(), m.info_hashes.end(), *hash) == m.info_hashes.end())
            m.info_hashes.push_back(*hash);
    } else if (iequals(name, "cookie")) {
        m.cookie = std::string(value.substr(0, 64));
    }
}

std::string random_cookie() {
    std::array<std::uint8_t, 4> bytes{};
    random_bytes(bytes);
    return to_hex(bytes);
}

}  // namespace

std::string encode_lsd(const LsdMessage& message, std::string_view host) {
    std::string out = "BT-SEARCH * HTTP/1.1\r\nHost: " + std::string(host) +
                      "\r\nPort: " + std::to_string(message.port) + "\r\n";
    for (const auto& hash : message.info_hashes) out += "Infohash: " + to_hex(hash) + "\r\n";
    if (!message.cookie.empty()) out += "cookie: " + message.cookie + "\r\n";
    return out + "\r\n\r\n";
}

std::optional<LsdMessage> decode_lsd(std::string_view datagram) {
    if (datagram.size() > kMaxLsdDatagram) return std::nullopt;
    auto line_end = datagram.find('\n');
    if (line_end == std::string_view::npos) return std::nullopt;
    auto request = trim(datagram.substr(0, line_end));
    if (request.substr(0, 10) != "BT-SEARCH ") return std::nullopt;
    LsdMessage m;
    bool has_port = false;
    for (auto pos = line_end + 1; pos < datagram.size();) {
        auto end = datagram.find('\n', pos);
        if (end == std::string_view::npos) end = datagram.size();
        auto line = trim(datagram.substr(pos, end - pos));
        if (line.empty()) break;  // end of the headers
        read_header(line, m, has_port);
        pos = end + 1;
    }
    if (!has_port || m.info_hashes.empty()) return std::nullopt;
    return m;
}

std::optional<Sha1Hash> LsdSchedule::next(const std::vector<Sha1Hash>& listed,
                                          Clock::time_point now) {
    std::set<Sha1Hash> wanted(listed.begin(), listed.end());
    std::erase_if(last_, [&](const auto& entry) { return !wanted.contains(entry.first); });
    if (last_sent_ && now - *last_sent_ < kMinGap) return std::nullopt;
    // The one waiting longest: never announced first, then the oldest announce.
    std::optional<Sha1Hash> pick;
    std::optional<Clock::time_point> pick_last;
    for (const auto& hash : wanted) {
        auto it = last_.find(hash);
        if (it == last_.end()) {
            pick = hash;
            pick_last.reset();
            break;
        }
        if (now - it->second < kReannounce) continue;
        if (!pick || it->second < *pick_last) pick = hash, pick_last = it->second;
    }
    if (!pick) return std::nullopt;
    last_[*pick] = now;
    last_sent_ = now;
    return pick;
}

LsdService::LsdService(boost::asio::io_context& io, ListFn listed, PeerFn on_peer)
    : socket_(io),
      timer_(io),
      listed_(std::move(listed)),
      on_peer_(std::move(on_peer)),
      cookie_(random_cookie()) {}

LsdService::~LsdService() {
    try {
        stop();
    } catch (const std::exception& e) {  // a destructor must not throw; the socket goes anyway
        spdlog::warn("LSD: stopping: {}", e.what());
    }
}

std::optional<std::string> LsdService::start() {
    boost::system::error_code ec;
    auto group = asio::ip::make_address_v4(std::string(kLsdGroupV4));
    socket_.open(udp::v4(), ec);
    if (!ec) socket_.set_option(udp::socket::reuse_address(true), ec);  // other clients too
    if (!ec) socket_.bind(udp::endpoint(asio::ip::address_v4::any(), kLsdPort), ec);
    if (!ec) socket_.set_option(asio::ip::multicast::join_group(group), ec);
    if (!ec) socket_.set_option(asio::ip::multicast::hops(1), ec);  // the LAN only
    // Other clients on this host must hear us too.
    if (!ec) socket_.set_option(asio::ip::multicast::enable_loopback(true), ec);
    if (ec) {
        socket_.close(ec);
        return "local peer discovery is off: cannot use multicast " + std::string(kLsdGroupV4) +
               ":" + std::to_string(kLsdPort) + " (" + ec.message() + ")";
    }
    receive();
    tick();
    return std::nullopt;
}

void LsdService::stop() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
}

void LsdService::receive() {
    socket_.async_receive_from(asio::buffer(buffer_), sender_,
                               [this, alive = std::weak_ptr<bool>(alive_)](
                                   const boost::system::error_code& ec, std::size_t size) {
                                   auto guard = alive.lock();
                                   if (!guard || !*guard || ec == asio::error::operation_aborted)
                                       return;
                                   if (!ec) on_datagram(size);
                                   receive();
                               });
}

void LsdService::on_datagram(std::size_t size) {
    auto message = decode_lsd(std::string_view(buffer_.data(), size));
    if (!message || message->cookie == cookie_) return;  // not LSD, or our own announce
    if (sender_.address().is_unspecified()) return;      // no address to dial
    boost::asio::ip::tcp::endpoint peer(sender_.address(), message->port);
    for (const auto& hash : message->info_hashes) on_peer_(hash, peer);
}

void LsdService::tick() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this,
                       alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        auto guard = alive.lock();
        if (ec || !guard || !*guard) return;
        auto listed = listed_();
        if (auto hash = schedule_.next(listed.info_hashes, LsdSchedule::Clock::now());
            hash && listed.listen_port != 0) {
            auto bytes =
                std::make_shared<std::string>(encode_lsd({listed.listen_port, {*hash}, cookie_}));
            udp::endpoint to(asio::ip::make_address_v4(std::string(kLsdGroupV4)), kLsdPort);
            socket_.async_send_to(asio::buffer(*bytes), to,
                                  [bytes](const boost::system::error_code& send_ec, std::size_t) {
                                      if (send_ec)
                                          spdlog::debug("LSD announce not sent: {}",
                                                        send_ec.message());
                                  });
        }
        tick();
    });
}

}  // namespace btd::discovery
