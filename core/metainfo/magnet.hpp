#pragma once
// Magnet URIs (BEP 9 "magnet URI format"): parsing into the parts a session needs to join a swarm
// without a .torrent, and building one from a torrent we know. Pure functions (but
// load_magnet_file, which reads a file), any thread.
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/metainfo/metainfo.hpp"
#include "core/util/hash.hpp"

namespace btd {

struct MagnetLink {
    Sha1Hash info_hash{};                               // xt=urn:btih: (40 hex or 32 base32)
    std::string display_name;                           // dn, empty if absent
    std::vector<std::string> trackers;                  // every tr, de-duplicated, order kept
    std::vector<boost::asio::ip::tcp::endpoint> peers;  // x.pe, de-duplicated, order kept
    std::vector<std::string> notes;  // parts we ignored, for the log (each once, at most 16)
};

inline constexpr std::size_t kMaxMagnetLength = 64 * 1024;
inline constexpr std::size_t kMaxMagnetTrackers = 200;
inline constexpr std::size_t kMaxMagnetPeers = 200;

// True if `text` starts with "magnet:" (any case): callers use it to pick a parser.
bool is_magnet_uri(std::string_view text);

// Throws MetainfoError("invalid magnet link: ...") naming the problem: not a magnet URI, too
// long, bad percent-encoding, no xt, a malformed or conflicting btih, a v2-only (btmh) link, a
// malformed x.pe. Trackers that are not http(s)/udp URLs and x.pe host names (we dial addresses,
// not names) are skipped with a note rather than failing the whole link.
MagnetLink parse_magnet(std::string_view uri);

// A `.magnet` file (by its extension, any case): a text file holding one magnet link.
bool is_magnet_file(const std::filesystem::path& file);
// Bounded read (the link's limit plus room for blanks) and parse_magnet; surrounding blanks
// and line ends are ignored. Throws MetainfoError naming the file.
MagnetLink load_magnet_file(const std::filesystem::path& file);

// magnet:?xt=urn:btih:<hex>&dn=<name>&tr=<url>... with every value percent-encoded.
std::string make_magnet(const Sha1Hash& info_hash, std::string_view name,
                        const std::vector<std::string>& trackers);

}  // namespace btd
