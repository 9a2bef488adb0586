#include "core/metainfo/magnet.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "core/util/ascii.hpp"
#include "core/util/url.hpp"

namespace btd {
namespace {

namespace asio = boost::asio;

constexpr std::string_view kScheme = "magnet:?";
constexpr std::string_view kBtih = "urn:btih:";
constexpr std::string_view kBtmh = "urn:btmh:";
constexpr std::size_t kMaxShownValue = 80;
constexpr std::size_t kMaxNotes = 16;  // how much of a bad value an error message quotes

[[noreturn]] void fail(const std::string& why) {
    throw MetainfoError("invalid magnet link: " + why);
}

std::string quote_value(std::string_view value) {
    std::string out(value.substr(0, kMaxShownValue));
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    if (value.size() > kMaxShownValue) out += "...";
    return "'" + out + "'";
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string percent_decode(std::string_view in, bool plus_is_space, std::string_view key) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+' && plus_is_space) {
            out += ' ';
        } else if (c != '%') {
            out += c;
        } else {
            int hi = i + 2 < in.size() ? hex_digit(in[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit(in[i + 2]) : -1;
            if (lo < 0) fail("parameter '" + std::string(key) + "' has a bad %-escape");
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        }
    }
    return out;
}

// RFC 4648 base32 (A-Z, 2-7), any case, no padding: 32 characters are exactly 160 bits.
std::optional<Sha1Hash> sha1_from_base32(std::string_view text) {
    if (text.size() != 32) return std::nullopt;
    Sha1Hash out{};
    std::uint32_t buffer = 0;
    int bits = 0;
    std::size_t at = 0;
    for (char c : text) {
        c = ascii_lower(c);
        int v = (c >= 'a' && c <= 'z') ? c - 'a' : (c >= '2' && c <= '7') ? c - '2' + 26 : -1;
        if (v < 0) return std::nullopt;
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[at++] = static_cast<std::uint8_t>(buffer >> bits);
        }
    }
    return out;
}

Sha1Hash parse_btih(std::string_view hash) {
    if (hash.size() == 40) {
        if (auto h = sha1_from_hex(hash)) return *h;
        fail("xt info-hash " + quote_value(hash) + " is not 40 hexadecimal digits");
    }
    if (hash.size() == 32) {
        if (auto h = sha1_from_base32(hash)) return *h;
        fail("xt info-hash " + quote_value(hash) + " is not valid base32 (A-Z, 2-7)");
    }
    fail("xt info-hash " + quote_value(hash) + " has " + std::to_string(hash.size()) +
         " characters; expected 40 (hex) or 32 (base32)");
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// "1.2.3.4:6881" or "[::1]:6881". nullopt for a host name; throws for anything malformed.
std::optional<asio::ip::tcp::endpoint> parse_peer(std::string_view text) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        fail("x.pe " + quote_value(text) + " is not host:port");
    auto port = parse_port(text.substr(colon + 1));
    if (!port) fail("x.pe " + quote_value(text) + " has a port outside 1-65535");
    std::string_view host = text.substr(0, colon);
    bool bracketed = host.front() == '[';
    if (bracketed) {
        if (host.size() < 3 || host.back() != ']')
            fail("x.pe " + quote_value(text) + " has an unclosed '[' around its IPv6 address");
        host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(std::string(host), ec);
    if (ec || (address.is_v6() && !bracketed)) {
        if (bracketed || host.find(':') != std::string_view::npos)
            fail("x.pe " + quote_value(text) + " is not a valid address (IPv6 goes in [brackets])");
        return std::nullopt;  // a host name: we dial addresses only
    }
    return asio::ip::tcp::endpoint(address, *port);
}

// "tr.1", "xt.2": numbered forms of repeatable keys count as the key itself.
std::string_view base_key(std::string_view key) {
    std::size_t dot = key.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == key.size()) return key;
    std::string_view suffix = key.substr(dot + 1);
    bool digits =
        std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; });
    return digits ? key.substr(0, dot) : key;
}

class MagnetBuilder {
  public:
    void add(std::string_view key, std::string_view raw_value) {
        std::string k = ascii_lower(percent_decode(key, false, key));
        std::string_view base = base_key(k);
        if (base == "xt") return add_topic(percent_decode(raw_value, false, k));
        if (base == "dn") return add_name(percent_decode(raw_value, true, k));
        if (base == "tr") return add_tracker(percent_decode(raw_value, false, k));
        if (k == "x.pe") return add_peer(percent_decode(raw_value, false, k));
        if (base == "ws") note("web seed (ws) ignored: web seeds are not supported");
        if (base == "so") note("file selection (so) ignored: all files are wanted");
    }

    MagnetLink finish() {
        if (!have_btih_) {
            if (have_btmh_)
                fail(
                    "it names only a BitTorrent v2 info-hash (urn:btmh); v2-only torrents are "
                    "not supported");
            fail("it has no 'xt=urn:btih:' parameter naming the info-hash");
        }
        if (have_btmh_) note("v2 info-hash (urn:btmh) ignored; using urn:btih");
        return std::move(link_);
    }

  private:
    // Each note once, and not too many: a link of 64 KiB could otherwise carry thousands.
    void note(std::string text) {
        auto& notes = link_.notes;
        if (notes.size() < kMaxNotes && std::find(notes.begin(), notes.end(), text) == notes.end())
            notes.push_back(std::move(text));
    }

    void add_topic(std::string_view topic) {
        if (starts_with_ci(topic, kBtmh)) {
            have_btmh_ = true;
            return;
        }
        if (!starts_with_ci(topic, kBtih))
            fail("xt " + quote_value(topic) + " is not 'urn:btih:<info-hash>'");
        Sha1Hash hash = parse_btih(topic.substr(kBtih.size()));
        if (have_btih_ && hash != link_.info_hash) fail("it names two different info-hashes in xt");
        link_.info_hash = hash;
        have_btih_ = true;
    }

    void add_name(std::string name) {
        for (char& c : name)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        if (link_.display_name.empty()) link_.display_name = std::move(name);
    }

    void add_tracker(std::string url) {
        auto parsed = parse_url(url);
        if (!parsed ||
            (parsed->scheme != "http" && parsed->scheme != "https" && parsed->scheme != "udp")) {
            note("tracker " + quote_value(url) + " ignored: not an http(s) or udp URL");
            return;
        }
        if (std::find(link_.trackers.begin(), link_.trackers.end(), url) != link_.trackers.end())
            return;
        if (link_.trackers.size() >= kMaxMagnetTrackers)
            fail("it lists more than " + std::to_string(kMaxMagnetTrackers) + " trackers");
        link_.trackers.push_back(std::move(url));
    }

    void add_peer(std::string_view text) {
        auto peer = parse_peer(text);
        if (!peer) {
            note("x.pe " + quote_value(text) + " ignored: not an IP address");
            return;
        }
        if (std::find(link_.peers.begin(), link_.peers.end(), *peer) != link_.peers.end()) return;
        if (link_.peers.size() >= kMaxMagnetPeers)
            fail("it lists more than " + std::to_string(kMaxMagnetPeers) + " peers (x.pe)");
        link_.peers.push_back(*peer);
    }

    MagnetLink link_;
    bool have_btih_ = false;
    bool have_btmh_ = false;
};

bool unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

std::string percent_encode(std::string_view in) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : in) {
        if (unreserved(c)) {
            out += c;
        } else {
            auto b = static_cast<unsigned char>(c);
            out += '%';
            out += kHex[b >> 4];
            out += kHex[b & 0xf];
        }
    }
    return out;
}

}  // namespace

bool is_magnet_uri(std::string_view text) {
    return starts_with_ci(text, "magnet:");
}

MagnetLink parse_magnet(std::string_view uri) {
    if (uri.size() > kMaxMagnetLength)
        fail("it is " + std::to_string(uri.size()) + " bytes long; the limit is " +
             std::to_string(kMaxMagnetLength));
    if (!starts_with_ci(uri, kScheme)) fail(quote_value(uri) + " does not start with 'magnet:?'");
    std::string_view query = uri.substr(kScheme.size());
    if (std::size_t hash = query.find('#'); hash != std::string_view::npos)
        query = query.substr(0, hash);
    MagnetBuilder builder;
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0)
            fail("parameter " + quote_value(pair) + " is not key=value");
        builder.add(pair.substr(0, eq), pair.substr(eq + 1));
    }
    return builder.finish();
}

std::string make_magnet(const Sha1Hash& info_hash, std::string_view name,
                        const std::vector<std::string>& trackers) {
    std::string out = std::string(kScheme) + "xt=" + std::string(kBtih) + to_hex(info_hash);
    if (!name.empty()) out += "&dn=" + percent_encode(name);
    for (const auto& tracker : trackers) out += "&tr=" + percent_encode(tracker);
    return out;
}

}  // namespace btd
