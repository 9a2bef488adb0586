#include "core/peer/extensions/ut_metadata.hpp"

#include <stdexcept>

#include "core/bencode/bencode.hpp"

namespace btd::wire {
namespace {

using bencode::Value;

// The dict part is a handful of small keys; a bigger one is not a ut_metadata message.
constexpr std::size_t kMaxDictItems = 32;

bencode::Limits dict_limits(std::size_t payload_size) {
    bencode::Limits limits;
    limits.max_depth = 4;
    limits.max_items = kMaxDictItems;
    limits.max_input = payload_size;
    return limits;
}

std::string encode_header(MetadataMsgType type, std::uint32_t piece,
                          std::optional<std::int64_t> total_size) {
    bencode::Dict d;
    d["msg_type"] = bencode::make_int(static_cast<int>(type));
    d["piece"] = bencode::make_int(piece);
    if (total_size) d["total_size"] = bencode::make_int(*total_size);
    return bencode::encode(bencode::make_dict(std::move(d)));
}

std::int64_t require_int(const Value& dict, std::string_view key) {
    const Value* v = dict.find(key);
    if (!v || !v->is_int())
        throw ProtocolError("ut_metadata message has no integer '" + std::string(key) + "'");
    return v->as_int();
}

void check_data(MetadataMessage& m, const Value& dict, std::string_view bytes,
                std::int64_t max_total_size) {
    m.total_size = require_int(dict, "total_size");
    if (m.total_size <= 0 || m.total_size > max_total_size)
        throw ProtocolError("ut_metadata total_size " + std::to_string(m.total_size) +
                            " is outside 1.." + std::to_string(max_total_size));
    if (m.piece >= metadata_piece_count(m.total_size))
        throw ProtocolError("ut_metadata piece " + std::to_string(m.piece) +
                            " is past the end of " + std::to_string(m.total_size) + " bytes");
    std::int64_t expected = metadata_piece_length(m.total_size, m.piece);
    if (static_cast<std::int64_t>(bytes.size()) != expected)
        throw ProtocolError("ut_metadata piece " + std::to_string(m.piece) + " has " +
                            std::to_string(bytes.size()) + " bytes; expected " +
                            std::to_string(expected));
    m.data.assign(bytes);
}

}  // namespace

std::uint32_t metadata_piece_count(std::int64_t total_size) {
    if (total_size <= 0) return 0;
    return static_cast<std::uint32_t>((total_size + kMetadataPieceSize - 1) / kMetadataPieceSize);
}

std::int64_t metadata_piece_length(std::int64_t total_size, std::uint32_t index) {
    std::int64_t begin = std::int64_t{index} * kMetadataPieceSize;
    if (begin >= total_size) return 0;
    return std::min(kMetadataPieceSize, total_size - begin);
}

std::string encode_metadata_request(std::uint32_t piece) {
    return encode_header(MetadataMsgType::request, piece, std::nullopt);
}

std::string encode_metadata_reject(std::uint32_t piece) {
    return encode_header(MetadataMsgType::reject, piece, std::nullopt);
}

std::string encode_metadata_data(std::uint32_t piece, std::int64_t total_size,
                                 std::string_view piece_bytes) {
    return encode_header(MetadataMsgType::data, piece, total_size) + std::string(piece_bytes);
}

std::string answer_metadata_request(std::string_view metadata, std::uint32_t piece) {
    auto total = static_cast<std::int64_t>(metadata.size());
    if (piece >= metadata_piece_count(total)) return encode_metadata_reject(piece);
    auto begin = static_cast<std::size_t>(piece) * kMetadataPieceSize;
    auto length = static_cast<std::size_t>(metadata_piece_length(total, piece));
    return encode_metadata_data(piece, total, metadata.substr(begin, length));
}

MetadataMessage decode_metadata_message(std::string_view payload, std::int64_t max_total_size) {
    Value dict;
    std::size_t consumed = 0;
    try {
        dict = bencode::decode_prefix(payload, consumed, dict_limits(payload.size()));
    } catch (const bencode::DecodeError& e) {
        throw ProtocolError(std::string("ut_metadata message is not bencoded: ") + e.what());
    }
    if (!dict.is_dict()) throw ProtocolError("ut_metadata message is not a dictionary");
    std::int64_t type = require_int(dict, "msg_type");
    std::int64_t piece = require_int(dict, "piece");
    if (piece < 0 || piece >= metadata_piece_count(max_total_size))
        throw ProtocolError("ut_metadata piece " + std::to_string(piece) + " is out of range");
    MetadataMessage m;
    m.piece = static_cast<std::uint32_t>(piece);
    std::string_view rest = payload.substr(consumed);
    switch (type) {
        case 0:
        case 2:
            if (!rest.empty())
                throw ProtocolError("ut_metadata request or reject has trailing bytes");
            m.type = static_cast<MetadataMsgType>(type);
            return m;
        case 1:
            m.type = MetadataMsgType::data;
            check_data(m, dict, rest, max_total_size);
            return m;
        default:
            m.type = MetadataMsgType::unknown;
            return m;
    }
}

std::optional<std::int64_t> handshake_metadata_size(std::string_view handshake_payload,
                                                    std::int64_t max_total_size) {
    Value v;
    try {
        bencode::Limits limits;
        limits.max_depth = 8;
        limits.max_input = 64 * 1024;
        v = bencode::decode(handshake_payload, limits);
    } catch (const bencode::DecodeError&) {
        return std::nullopt;
    }
    const Value* size = v.find("metadata_size");
    if (!size || !size->is_int() || size->as_int() <= 0 || size->as_int() > max_total_size)
        return std::nullopt;
    return size->as_int();
}

MetadataAssembler::MetadataAssembler(const Sha1Hash& info_hash, std::int64_t total_size)
    : info_hash_(info_hash), total_size_(total_size) {
    if (total_size <= 0 || total_size > kMaxMetadataSize)
        throw std::invalid_argument("metadata size " + std::to_string(total_size) +
                                    " is outside 1.." + std::to_string(kMaxMetadataSize));
    pieces_.resize(metadata_piece_count(total_size));
}

bool MetadataAssembler::have(std::uint32_t piece) const {
    return piece < pieces_.size() && pieces_[piece].present;
}

std::optional<std::uint32_t> MetadataAssembler::next_missing(
    const std::set<std::uint32_t>& in_flight) const {
    for (std::uint32_t i = 0; i < pieces_.size(); ++i)
        if (!pieces_[i].present && !in_flight.contains(i)) return i;
    return std::nullopt;
}

MetadataAssembler::AddResult MetadataAssembler::add_piece(PeerKey from, std::uint32_t piece,
                                                          std::string_view bytes,
                                                          std::int64_t claimed_total_size) {
    if (claimed_total_size != total_size_) return AddResult::wrong_total_size;
    if (piece >= pieces_.size()) return AddResult::out_of_range;
    if (static_cast<std::int64_t>(bytes.size()) != metadata_piece_length(total_size_, piece))
        return AddResult::wrong_size;
    Piece& slot = pieces_[piece];
    if (slot.present) return AddResult::duplicate;
    slot.bytes.assign(bytes);
    slot.from = from;
    slot.present = true;
    ++received_;
    return AddResult::accepted;
}

MetadataAssembler::Verification MetadataAssembler::verify() {
    Verification result;
    if (!complete()) return result;
    std::string joined;
    joined.reserve(static_cast<std::size_t>(total_size_));
    for (const Piece& p : pieces_) joined += p.bytes;
    if (sha1(std::string_view(joined)) == info_hash_) {
        blame_earlier_attempts(joined);
        result.ok = true;
        result.metadata = std::move(joined);
        return result;
    }
    std::vector<PieceRecord> attempt;
    for (Piece& p : pieces_) {
        result.contributors.insert(p.from);
        attempt.push_back({sha1(std::string_view(p.bytes)), p.from});
        p = Piece{};
    }
    received_ = 0;
    if (failed_attempts_.size() == kMaxFailedAttempts)
        failed_attempts_.erase(failed_attempts_.begin());
    failed_attempts_.push_back(std::move(attempt));
    return result;
}

void MetadataAssembler::blame_earlier_attempts(std::string_view verified) {
    for (const auto& attempt : failed_attempts_) {
        for (std::uint32_t i = 0; i < attempt.size(); ++i) {
            auto begin = static_cast<std::size_t>(i) * kMetadataPieceSize;
            auto length = static_cast<std::size_t>(metadata_piece_length(total_size_, i));
            if (sha1(verified.substr(begin, length)) != attempt[i].digest)
                bad_peers_.insert(attempt[i].from);
        }
    }
    failed_attempts_.clear();
}

}  // namespace btd::wire
