#pragma once
// BEP 9 metadata exchange (ut_metadata over BEP 10): the message codec and a MetadataAssembler
// that collects the info dictionary in 16 KiB pieces from several peers and checks it against the
// info-hash. Pure: no sockets, no clock. Callers own one assembler per torrent and use it from
// the network thread only.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/peer/wire.hpp"
#include "core/util/hash.hpp"

namespace btd::wire {

inline constexpr std::string_view kUtMetadata = "ut_metadata";  // name in the handshake's "m"
inline constexpr std::uint8_t kOurUtMetadataId = 2;  // the id we ask peers to use (as libtorrent)
inline constexpr std::int64_t kMetadataPieceSize = 16 * 1024;
// Real info dictionaries are at most a few MiB; a larger claim is a peer trying to make us
// allocate.
inline constexpr std::int64_t kMaxMetadataSize = 16 * 1024 * 1024;

enum class MetadataMsgType : int { request = 0, data = 1, reject = 2, unknown = -1 };

struct MetadataMessage {
    MetadataMsgType type = MetadataMsgType::request;
    std::uint32_t piece = 0;
    std::int64_t total_size = 0;  // data only: size of the whole info dictionary
    std::string data;             // data only: the piece's bytes (after the bencoded dict)
};

std::string encode_metadata_request(std::uint32_t piece);
std::string encode_metadata_reject(std::uint32_t piece);
std::string encode_metadata_data(std::uint32_t piece, std::int64_t total_size,
                                 std::string_view piece_bytes);

// Our answer to a request for `piece` of the metadata we have: a data message, or a reject if
// the index is past the end or we have no metadata yet (empty `metadata`).
std::string answer_metadata_request(std::string_view metadata, std::uint32_t piece);

// Decodes an extended-message payload. Throws ProtocolError (the caller drops the peer) if it is
// not a bencoded dict with integer msg_type and piece, if a data message's total_size is outside
// 1..max_total_size, its piece index is past the end or its byte count is not the piece's size,
// or if a request or reject carries trailing bytes. An unknown msg_type decodes as `unknown`
// (BEP 9: ignore it).
MetadataMessage decode_metadata_message(std::string_view payload,
                                        std::int64_t max_total_size = kMaxMetadataSize);

// "metadata_size" from a BEP 10 handshake payload; nullopt if absent, not an integer or outside
// 1..max_total_size.
std::optional<std::int64_t> handshake_metadata_size(std::string_view handshake_payload,
                                                    std::int64_t max_total_size = kMaxMetadataSize);

// Number of pieces for a given metadata size, and the size of piece `index`.
std::uint32_t metadata_piece_count(std::int64_t total_size);
std::int64_t metadata_piece_length(std::int64_t total_size, std::uint32_t index);

// Collects the pieces of one torrent's metadata. Peers are identified by a caller-chosen key
// (e.g. a connection id).
class MetadataAssembler {
  public:
    using PeerKey = std::uint64_t;

    enum class AddResult {
        accepted,
        duplicate,         // already have that piece: ignored
        out_of_range,      // no such piece
        wrong_size,        // byte count is not the piece's size
        wrong_total_size,  // the peer claims a different total size than we were built with
    };

    struct Verification {
        bool ok = false;
        std::string metadata;  // the info dictionary when ok
        // On failure: every peer that sent a piece of the failed attempt (all pieces are
        // discarded and must be fetched again). If it is one peer, that peer is the liar.
        std::set<PeerKey> contributors;
    };

    static constexpr std::size_t kMaxFailedAttempts = 8;  // older ones are forgotten

    // Throws std::invalid_argument if total_size is outside 1..kMaxMetadataSize.
    MetadataAssembler(const Sha1Hash& info_hash, std::int64_t total_size);

    std::int64_t total_size() const { return total_size_; }
    std::uint32_t piece_count() const { return static_cast<std::uint32_t>(pieces_.size()); }
    bool have(std::uint32_t piece) const;
    bool complete() const { return received_ == pieces_.size(); }

    // The lowest missing piece not in `in_flight`, or nullopt if every missing piece is taken.
    std::optional<std::uint32_t> next_missing(const std::set<std::uint32_t>& in_flight = {}) const;

    AddResult add_piece(PeerKey from, std::uint32_t piece, std::string_view bytes,
                        std::int64_t claimed_total_size);

    // Call once complete(). On a hash mismatch the pieces are kept aside and the assembler starts
    // over; once a later attempt verifies, bad_peers() names the peers whose earlier pieces
    // differ from the verified bytes.
    Verification verify();
    const std::set<PeerKey>& bad_peers() const { return bad_peers_; }

  private:
    struct Piece {
        std::string bytes;
        PeerKey from = 0;
        bool present = false;
    };
    struct PieceRecord {  // what a failed attempt got, enough to blame its sender later
        Sha1Hash digest{};
        PeerKey from = 0;
    };
    void blame_earlier_attempts(std::string_view verified);

    Sha1Hash info_hash_;
    std::int64_t total_size_;
    std::vector<Piece> pieces_;
    std::size_t received_ = 0;
    std::vector<std::vector<PieceRecord>> failed_attempts_;  // bounded by kMaxFailedAttempts
    std::set<PeerKey> bad_peers_;
};

}  // namespace btd::wire
