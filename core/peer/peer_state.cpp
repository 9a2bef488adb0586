#include "core/peer/peer_state.hpp"

#include <algorithm>

#include "core/peer/wire.hpp"

namespace btd {

PeerState::PeerState(PeerKey key, int num_pieces, Clock::time_point now)
    : key_(key), pieces_(num_pieces), last_block_(now) {}

bool PeerState::set_am_choking(bool choke, Clock::time_point now) {
    if (am_choking_ == choke) return false;
    am_choking_ = choke;
    if (choke)
        optimistic_ = false;
    else
        last_unchoked_ = now;
    return true;
}

bool PeerState::set_am_interested(bool interested) {
    if (am_interested_ == interested) return false;
    am_interested_ = interested;
    return true;
}

bool PeerState::add_piece(std::uint32_t piece) {
    if (pieces_.test(piece)) return false;
    pieces_.set(piece);
    return true;
}

Bitfield PeerState::replace_pieces(Bitfield pieces, bool has_all) {
    has_all_ = has_all;
    std::swap(pieces_, pieces);
    return pieces;
}

void PeerState::add_request(const BlockRef& block, Clock::time_point sent) {
    requests_.push_back({block, sent});
}

bool PeerState::remove_request(const BlockRef& block) {
    auto it = std::find_if(requests_.begin(), requests_.end(),
                           [&](const Request& r) { return r.block == block; });
    if (it == requests_.end()) return false;
    requests_.erase(it);
    return true;
}

std::optional<BlockRef> PeerState::take_request(int piece, int offset) {
    auto it = std::find_if(requests_.begin(), requests_.end(), [&](const Request& r) {
        return r.block.piece == piece && r.block.offset == offset;
    });
    if (it == requests_.end()) return std::nullopt;
    BlockRef block = it->block;
    requests_.erase(it);
    return block;
}

void PeerState::add_allowed_fast_in(std::uint32_t piece, std::size_t max) {
    auto& in = allowed_fast_in_;
    if (in.size() < max && std::find(in.begin(), in.end(), piece) == in.end()) in.push_back(piece);
}

void PeerState::on_block_received(Clock::time_point now) {
    last_block_ = now;
    snubbed_ = false;
}

void PeerState::add_uploaded(std::int64_t bytes, Clock::time_point now) {
    upload_.add(bytes);
    last_upload_ = now;
}

void PeerState::tick() {
    download_.tick();
    upload_.tick();
}

void PeerState::set_client_from_peer_id(const PeerId& id) {
    client_ = wire::client_name(id);
}

void PeerState::on_extension_handshake(const wire::ExtensionHandshake& ext) {
    if (ext.request_queue > 0) request_limit_ = ext.request_queue;
    if (auto it = ext.messages.find("ut_metadata"); it != ext.messages.end())
        ut_metadata_id_ = it->second;
    if (ext.client.empty()) return;
    // Untrusted text that reaches logs and RPC replies: no control characters.
    client_.clear();
    for (char c : ext.client)
        client_.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
}

std::string PeerState::flags() const {
    std::string out;
    if (!requests_.empty()) out += 'D';
    if (!am_choking_ && peer_interested_) out += 'U';
    if (peer_choking_) out += 'c';
    if (am_interested_) out += 'i';
    if (snubbed_) out += 's';
    if (optimistic_) out += 'O';
    return out;
}

}  // namespace btd
