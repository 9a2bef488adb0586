#include "core/session/metadata_fetch.hpp"

#include <algorithm>

namespace btd {

std::optional<std::string> silent_peer_reason(std::chrono::steady_clock::time_point now,
                                              std::chrono::steady_clock::time_point handshake_at,
                                              std::chrono::steady_clock::time_point last_message,
                                              bool extension_handshake_seen) {
    if (now - last_message >= kSilentPeerTimeout)
        return "no message for " + std::to_string(kSilentPeerTimeout.count()) + " s";
    if (!extension_handshake_seen && now - handshake_at >= kExtensionHandshakeTimeout)
        return "no extension handshake within " +
               std::to_string(kExtensionHandshakeTimeout.count()) + " s";
    return std::nullopt;
}

void MetadataFetch::add_peer(PeerKey peer, std::int64_t size) {
    if (banned_.count(peer)) return;
    peers_[peer].size = size;
}

void MetadataFetch::remove_peer(PeerKey peer) {
    peers_.erase(peer);
}

void MetadataFetch::on_reject(PeerKey peer) {
    remove_peer(peer);
}

std::set<std::uint32_t> MetadataFetch::all_in_flight() const {
    std::set<std::uint32_t> out;
    for (const auto& [key, p] : peers_)
        for (const auto& [piece, when] : p.in_flight) out.insert(piece);
    return out;
}

std::vector<std::uint32_t> MetadataFetch::requests_for(PeerKey peer, Clock::time_point now) {
    std::vector<std::uint32_t> out;
    auto it = peers_.find(peer);
    if (it == peers_.end()) return out;
    auto& p = it->second;
    if (!assembler_) assembler_.emplace(info_hash_, p.size);
    if (p.size != assembler_->total_size()) return out;  // waits until that size failed
    auto taken = all_in_flight();
    while (p.in_flight.size() < kMaxRequestsPerPeer) {
        auto next = assembler_->next_missing(taken);
        if (!next) break;
        taken.insert(*next);
        p.in_flight.emplace(*next, now);
        out.push_back(*next);
    }
    return out;
}

MetadataFetch::Answer MetadataFetch::on_data(PeerKey peer, const wire::MetadataMessage& msg) {
    Answer answer;
    auto it = peers_.find(peer);
    if (it == peers_.end() || !assembler_ || !it->second.in_flight.erase(msg.piece))
        return answer;  // not asked (or no longer): ignored
    using Result = wire::MetadataAssembler::AddResult;
    switch (assembler_->add_piece(peer, msg.piece, msg.data, msg.total_size)) {
        case Result::accepted:
            break;
        case Result::duplicate:
            return answer;
        case Result::out_of_range:
        case Result::wrong_size:
        case Result::wrong_total_size:
            answer.ban.push_back(peer);
            answer.reason = "metadata piece of the wrong size";
            banned_.insert(peer);
            peers_.erase(peer);
            forget_size_if_unclaimed();
            return answer;
    }
    if (!assembler_->complete()) return answer;
    return verify();
}

MetadataFetch::Answer MetadataFetch::verify() {
    Answer answer;
    auto result = assembler_->verify();
    if (result.ok) {
        answer.ban.assign(assembler_->bad_peers().begin(), assembler_->bad_peers().end());
        answer.reason = "sent metadata that failed the hash check";
        answer.metadata = std::move(result.metadata);
        return answer;
    }
    answer.reason = "sent metadata that failed the hash check";
    if (result.contributors.size() == 1) {
        auto liar = *result.contributors.begin();
        answer.ban.push_back(liar);
        banned_.insert(liar);
        peers_.erase(liar);
    }
    forget_size_if_unclaimed();
    return answer;
}

void MetadataFetch::forget_size_if_unclaimed() {
    auto size = assembler_->total_size();
    bool claimed = std::any_of(peers_.begin(), peers_.end(),
                               [size](const auto& p) { return p.second.size == size; });
    if (!claimed) assembler_.reset();
}

std::vector<MetadataFetch::PeerKey> MetadataFetch::timed_out(Clock::time_point now) const {
    std::vector<PeerKey> out;
    for (const auto& [key, p] : peers_)
        for (const auto& [piece, when] : p.in_flight)
            if (now - when >= kRequestTimeout) {
                out.push_back(key);
                break;
            }
    return out;
}

double MetadataFetch::progress() const {
    if (!assembler_ || assembler_->piece_count() == 0) return 0;
    return double(pieces_have()) / double(assembler_->piece_count());
}

std::uint32_t MetadataFetch::pieces_have() const {
    if (!assembler_) return 0;
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < assembler_->piece_count(); ++i) n += assembler_->have(i);
    return n;
}

}  // namespace btd
