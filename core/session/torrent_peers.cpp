#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/peer/extension.hpp"
#include "core/peer/extensions/ut_metadata.hpp"
#include "core/session/peer_policy.hpp"
#include "core/session/torrent.hpp"

// A torrent's peer connections: whom to dial (PeerList decides who may be dialled), whom to
// accept, what happens when a connection opens or ends, and what each peer message changes.

namespace btd {

void Torrent::add_peers(const std::vector<Endpoint>& endpoints, PeerSource source) {
    peer_list_.add(endpoints, source);
    connect_more();
}

void Torrent::connect_more() {
    // Dropping a peer below calls on_peer_closed, which calls back here: one loop at a time.
    if (!active() || stopping_ || connecting_) return;
    connecting_ = true;
    struct Done {
        bool& flag;
        ~Done() { flag = false; }
    } done{connecting_};
    const int limit = ctx_.settings.max_peers_per_torrent;
    auto per_address = connections_per_address();
    bool turned_over = false;  // at most one useless peer dropped per call: slow, steady churn
    for (const auto& ep : peer_list_.ready(ctx_.clock.now())) {
        if (half_open_ >= tuning_.max_half_open || ctx_.connections >= ctx_.connection_limit())
            break;
        if (!dialable(ep, per_address)) continue;
        if (static_cast<int>(peers_.size()) >= limit) {
            if (turned_over || !drop_useless_peer(false)) break;
            turned_over = true;
        }
        ++per_address[peer_policy::address_group(ep.address())];
        dial(ep);
    }
}

bool Torrent::dialable(const Endpoint& ep,
                       const std::map<boost::asio::ip::address, int>& per_address) const {
    if (ep.port() == ctx_.listen_port && ep.address().is_loopback()) return false;  // ourselves
    if (ctx_.self_endpoints.count(ep)) return false;  // answered with our own peer id before
    auto it = per_address.find(peer_policy::address_group(ep.address()));
    return it == per_address.end() ||
           it->second < peer_policy::per_address_limit(ep.address(), ctx_.settings);
}

void Torrent::dial(const Endpoint& ep) {
    peer_list_.mark_dialled(ep);
    auto peer = std::make_shared<PeerConnection>(
        ctx_.open_stream(ep), *this, wire::make_handshake(meta_.info_hash, ctx_.peer_id),
        ctx_.dial_options());
    add_connection(peer);
    ++half_open_;
    peer->start_outgoing();
}

std::map<boost::asio::ip::address, int> Torrent::connections_per_address() const {
    std::map<boost::asio::ip::address, int> counts;
    for (auto& [ptr, peer] : peers_) ++counts[peer_policy::address_group(peer->remote().address())];
    return counts;
}

void Torrent::add_connection(const std::shared_ptr<PeerConnection>& peer) {
    peer->state() = PeerState(PeerKey{next_peer_key_++}, meta_.num_pieces(), ctx_.clock.now());
    // The largest legal frame: a block, our bitfield, or an extension message.
    peer->set_max_frame(std::max<std::size_t>(
        {kBlockSize + 13, peer->state().pieces().bytes().size() + 1, 64 * 1024}));
    make_rate_limiters();
    peer->set_bandwidth({download_limit_, ctx_.download_limit}, {upload_limit_, ctx_.upload_limit});
    peers_.emplace(peer.get(), peer);
    ++ctx_.connections;
}

// Incoming peers may fill all but a few slots (peer_policy::incoming_slot_limit), so that we can
// always dial a new candidate; beyond that, a peer that has given nothing makes room.
bool Torrent::make_room_for_incoming() {
    const int limit = ctx_.settings.max_peers_per_torrent;
    int incoming = static_cast<int>(
        std::count_if(peers_.begin(), peers_.end(), [](auto& p) { return p.second->incoming(); }));
    bool incoming_full = incoming >= peer_policy::incoming_slot_limit(limit);
    if (static_cast<int>(peers_.size()) < limit && !incoming_full) return true;
    return drop_useless_peer(incoming_full);
}

// Drops the oldest peer that has given nothing for tuning.useless_peer_grace: neither side
// interested and no payload either way. False if there is none.
bool Torrent::drop_useless_peer(bool incoming_only) {
    auto now = ctx_.clock.now();
    PeerConnection* victim = nullptr;
    for (auto& [ptr, peer] : peers_) {
        const auto& st = peer->state();
        if (!peer->connected() || st.am_interested() || st.peer_interested()) continue;
        if (incoming_only && !peer->incoming()) continue;
        auto last_payload = std::max({peer->connected_at(), st.last_block(), st.last_upload()});
        if (now - last_payload < tuning_.useless_peer_grace) continue;
        if (!victim || peer->connected_at() < victim->connected_at()) victim = ptr;
    }
    if (!victim) return false;
    victim->close("making room for a new peer");
    return true;
}

bool Torrent::accept_incoming(std::unique_ptr<PeerStream> stream, const wire::Handshake& theirs) {
    if (!accepting()) return false;
    if (refuse_incoming(stream->remote(), theirs)) return false;
    if (!make_room_for_incoming()) return false;
    auto peer = std::make_shared<PeerConnection>(
        std::move(stream), *this, wire::make_handshake(meta_.info_hash, ctx_.peer_id), theirs,
        ctx_.accept_options());
    add_connection(peer);
    peer->start_incoming();
    return true;
}

// Ourselves, a peer id already connected, a banned peer, or one address too many.
bool Torrent::refuse_incoming(const Endpoint& remote, const wire::Handshake& theirs) {
    if (theirs.peer_id == ctx_.peer_id) return true;
    for (auto& [ptr, peer] : peers_)
        if (peer->connected() && peer->remote_handshake().peer_id == theirs.peer_id) return true;
    if (peer_list_.endpoint_banned(remote)) return true;
    auto offender = PeerList::offender_key(remote, theirs.peer_id);
    if (peer_list_.bad_data_banned(offender) ||
        peer_list_.violator_banned(offender, ctx_.clock.now()))
        return true;
    auto per_address = connections_per_address();
    return per_address[peer_policy::address_group(remote.address())] >=
           peer_policy::per_address_limit(remote.address(), ctx_.settings);
}

// A scan: called only in endgame, for the few other peers asked for a block just received.
PeerConnection* Torrent::find_peer(PeerKey key) {
    for (auto& [ptr, peer] : peers_)
        if (peer->state().key() == key) return ptr;
    return nullptr;
}

void Torrent::on_peer_connected(PeerConnection& peer) {
    peer.state().set_offender(
        PeerList::offender_key(peer.remote(), peer.remote_handshake().peer_id));
    if (!peer.incoming()) {
        --half_open_;
        peer_list_.on_handshake(peer.remote());
        if (refuse_banned(peer)) return;
    }
    peer.state().set_client_from_peer_id(peer.remote_handshake().peer_id);
    send_opening(peer);
    rechoke(false);  // a free regular slot is given at connect, before `interested`
    spdlog::debug("{}: {} {} ({})", meta_.name, peer.incoming() ? "accepted" : "connected to",
                  endpoint_string(peer.remote()), peer.state().client());
}

// A peer we dialled is a duplicate or a banned offender behind another port: close it.
bool Torrent::refuse_banned(PeerConnection& peer) {
    for (auto& [ptr, other] : peers_)
        if (ptr != &peer && other->connected() &&
            other->remote_handshake().peer_id == peer.remote_handshake().peer_id) {
            peer.close("duplicate connection");
            return true;
        }
    if (peer_list_.bad_data_banned(peer.state().offender())) {
        peer_list_.ban_endpoint(peer.remote());
        peer.close("banned: sent data that failed the hash check");
        return true;
    }
    if (peer_list_.violator_banned(peer.state().offender(), ctx_.clock.now())) {
        peer.close("banned for breaking the protocol");
        return true;
    }
    return false;
}

// What we have, our extension handshake and the allowed-fast pieces, in one send.
void Torrent::send_opening(PeerConnection& peer) {
    std::string out;
    const auto& have = picker_.have_bitfield();
    if (peer.fast_extension() && have.all()) {
        wire::append_simple(out, wire::MsgType::have_all);
    } else if (peer.fast_extension() && have.none()) {
        wire::append_simple(out, wire::MsgType::have_none);
    } else if (!have.none()) {
        wire::append_bitfield(out, have.wire_bytes());
    }
    if (peer.remote_handshake().supports_extended()) {
        wire::ExtensionHandshake ext;
        ext.client = std::string(kClientName) + " " + std::string(kClientVersion);
        ext.listen_port = ctx_.listen_port;
        ext.request_queue = static_cast<int>(tuning_.max_upload_queue);
        if (pex_allowed()) ext.messages[std::string(wire::kUtPex)] = wire::kUtPexLocalId;
        // BEP 9: we serve the info dictionary to peers that came with a magnet link (private
        // torrents too, as libtorrent does: only peers that know the info-hash can ask).
        ext.messages[std::string(wire::kUtMetadata)] = wire::kOurUtMetadataId;
        ext.metadata_size = static_cast<std::int64_t>(meta_.raw_info.size());
        wire::append_extended(out, 0, wire::encode_extension_handshake(ext));
    }
    if (peer.fast_extension() && peer.remote().address().is_v4()) {
        peer.state().uploads().set_allowed_fast(
            wire::allowed_fast_set(peer.remote().address().to_v4().to_uint(), meta_.info_hash,
                                   meta_.num_pieces(), tuning_.allowed_fast_count));
        for (auto piece : peer.state().uploads().allowed_fast())
            if (have.test(piece)) wire::append_piece_index(out, wire::MsgType::allowed_fast, piece);
    }
    peer.send(out);
}

void Torrent::on_peer_closed(PeerConnection& peer, const std::string& reason) {
    auto it = peers_.find(&peer);
    if (it == peers_.end()) return;
    auto keep = it->second;  // the connection must outlive this function
    peers_.erase(it);
    --ctx_.connections;
    if (!peer.connected() && !peer.incoming()) --half_open_;
    bool was_unchoked = !peer.state().am_choking();
    drop_requests(peer);
    if (peer.connected()) picker_.peer_lost_bitfield(peer.state().pieces());
    if (peers_.empty()) picker_.release_idle_state();  // e.g. a seed nobody is connected to
    using Reason = PeerConnection::CloseReason;
    if (peer.close_reason() == Reason::protocol_violation) record_violation(peer, reason);
    forget_pex(peer);
    spdlog::debug("{}: {} {} closed: {}", meta_.name, peer.incoming() ? "incoming" : "outgoing",
                  endpoint_string(peer.remote()), reason);
    if (peer.incoming()) return connect_more();  // its port is not a listen port: forget it
    note_closed(peer);
    if (was_unchoked) rechoke(false);  // give its upload slot to someone else now
    connect_more();
}

// An outgoing peer's ending, for the peer list's back-off and bans.
void Torrent::note_closed(PeerConnection& peer) {
    using Reason = PeerConnection::CloseReason;
    auto ending = PeerList::Ending::ordinary;
    switch (peer.close_reason()) {
        case Reason::ordinary:
            break;
        case Reason::protocol_violation:
            ending = PeerList::Ending::protocol_violation;
            break;
        case Reason::connected_to_self:
            spdlog::info("{}: {} is ourselves; never dialling it again", meta_.name,
                         endpoint_string(peer.remote()));
            ctx_.self_endpoints.insert(peer.remote());
            ending = PeerList::Ending::connected_to_self;
            break;
        case Reason::wrong_torrent:
            ending = PeerList::Ending::wrong_torrent;
            break;
    }
    peer_list_.on_closed(peer.remote(), ending, ctx_.clock.now());
}

void Torrent::record_violation(PeerConnection& peer, const std::string& reason) {
    std::optional<Endpoint> dialled;
    if (!peer.incoming()) dialled = peer.remote();
    auto ban = peer_list_.record_violation(peer.state().offender(), dialled, ctx_.clock.now());
    spdlog::info("{}: {} broke the protocol ({}); banned {}", meta_.name,
                 endpoint_string(peer.remote()), reason,
                 ban ? "for " + std::to_string(ban->count()) + " s" : std::string("for good"));
}

void Torrent::update_interest(PeerConnection& peer) {
    bool interested = picker_.is_interesting(peer.state().pieces());
    if (!peer.state().set_am_interested(interested)) return;
    std::string out;
    wire::append_simple(out,
                        interested ? wire::MsgType::interested : wire::MsgType::not_interested);
    peer.send(out);
}

void Torrent::on_peer_message(PeerConnection& peer, const wire::Message& msg) {
    using wire::MsgType;
    switch (msg.type) {
        case MsgType::keep_alive:
        case MsgType::port:
            return;
        case MsgType::suggest_piece:
            if (!peer.fast_extension())
                return peer.close_violation("suggest without Fast extension");
            return;  // our picker's order is good enough; suggestions are only hints
        case MsgType::allowed_fast:
            return on_allowed_fast(peer, msg);
        case MsgType::extended:
            return on_extended(peer, msg);
        case MsgType::choke:
            peer.state().set_peer_choking(true);
            // With the Fast extension the peer rejects what it won't serve; without it, a
            // choke silently drops every outstanding request.
            if (!peer.fast_extension()) drop_requests(peer);
            return;
        case MsgType::unchoke:
            peer.state().set_peer_choking(false);
            return request_blocks(peer);
        case MsgType::interested:
            peer.state().set_peer_interested(true);
            return rechoke(false);  // a free slot is given at once, not at the next round
        case MsgType::not_interested:
            peer.state().set_peer_interested(false);
            if (!peer.state().am_choking()) rechoke(false);
            return;
        case MsgType::have:
            return on_have(peer, msg);
        case MsgType::bitfield:
            return on_bitfield(peer, msg);
        case MsgType::have_all:
        case MsgType::have_none:
            return on_have_all_or_none(peer, msg);
        case MsgType::request:
            return handle_request(peer, msg);
        case MsgType::cancel:
            return on_cancel(peer, msg);
        case MsgType::reject_request:
            return on_reject(peer, msg);
        case MsgType::piece:
            return on_block(peer, msg);
    }
}

void Torrent::on_allowed_fast(PeerConnection& peer, const wire::Message& msg) {
    if (!peer.fast_extension()) return peer.close_violation("allowed fast without Fast extension");
    if (msg.piece < static_cast<std::uint32_t>(meta_.num_pieces()))
        peer.state().add_allowed_fast_in(msg.piece, tuning_.max_allowed_fast_in);
    request_blocks(peer);
}

void Torrent::on_extended(PeerConnection& peer, const wire::Message& msg) {
    if (msg.ext_id == wire::kUtPexLocalId) return on_pex(peer, msg);
    if (msg.ext_id == wire::kOurUtMetadataId) return serve_metadata(peer, msg.payload);
    if (msg.ext_id != 0) return;
    if (auto ext = wire::decode_extension_handshake(msg.payload)) {
        peer.state().on_extension_handshake(*ext);
        note_extension_handshake(peer, *ext);
    }
}

// A ut_metadata message from a peer fetching our info dictionary: requests get a piece (or a
// reject past the end); data and rejects are not for us and are ignored.
void Torrent::serve_metadata(PeerConnection& peer, std::string_view payload) {
    wire::MetadataMessage msg;
    try {
        msg = wire::decode_metadata_message(payload);
    } catch (const std::exception& e) {
        return peer.close_violation(std::string("bad ut_metadata message: ") + e.what());
    }
    int their_id = peer.state().ut_metadata_id();
    if (msg.type != wire::MetadataMsgType::request || their_id == 0) return;
    std::string out;
    wire::append_extended(out, static_cast<std::uint8_t>(their_id),
                          wire::answer_metadata_request(meta_.raw_info, msg.piece));
    peer.send(out);
}

void Torrent::on_have(PeerConnection& peer, const wire::Message& msg) {
    if (msg.piece >= static_cast<std::uint32_t>(meta_.num_pieces()))
        return peer.close_violation("have for piece " + std::to_string(msg.piece) +
                                    " out of range");
    if (!peer.state().add_piece(msg.piece)) return;
    picker_.peer_has_piece(static_cast<int>(msg.piece));
    if (!peer.state().am_interested() && picker_.wants(static_cast<int>(msg.piece)))
        update_interest(peer);
    request_blocks(peer);
}

void Torrent::on_bitfield(PeerConnection& peer, const wire::Message& msg) {
    Bitfield bits(meta_.num_pieces());
    if (!bits.assign_wire(msg.payload)) return peer.close_violation("invalid bitfield");
    bool all = bits.all();
    picker_.peer_lost_bitfield(peer.state().replace_pieces(std::move(bits), all));
    picker_.peer_has_bitfield(peer.state().pieces());
    update_interest(peer);
    request_blocks(peer);
}

void Torrent::on_have_all_or_none(PeerConnection& peer, const wire::Message& msg) {
    if (!peer.fast_extension())
        return peer.close_violation("Fast extension message without support");
    bool all = msg.type == wire::MsgType::have_all;
    Bitfield bits(meta_.num_pieces());
    if (all) bits.set_all();
    picker_.peer_lost_bitfield(peer.state().replace_pieces(std::move(bits), all));
    picker_.peer_has_bitfield(peer.state().pieces());
    update_interest(peer);
    request_blocks(peer);
}

void Torrent::on_cancel(PeerConnection& peer, const wire::Message& msg) {
    BlockRef block{static_cast<int>(msg.piece), static_cast<int>(msg.offset),
                   static_cast<int>(msg.length)};
    // BEP 6: every request is answered, a cancelled one with a reject.
    if (peer.state().uploads().cancel(block) && peer.fast_extension()) reject(peer, block);
}

void Torrent::on_reject(PeerConnection& peer, const wire::Message& msg) {
    if (!peer.fast_extension()) return peer.close_violation("reject without Fast extension");
    auto block =
        peer.state().take_request(static_cast<int>(msg.piece), static_cast<int>(msg.offset));
    if (!block) return;
    if (picker_.abort_request(*block, peer.state().key())) release_buffer(block->piece);
}

}  // namespace btd
