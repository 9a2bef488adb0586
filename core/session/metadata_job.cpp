#include "core/session/metadata_job.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "core/peer/extension.hpp"
#include "core/peer/extensions/ut_metadata.hpp"

namespace btd {

namespace {
constexpr std::size_t kMaxIncomingListen = 200;  // remembered listen ports of incoming peers

std::vector<std::vector<std::string>> one_tier_each(const std::vector<std::string>& trackers) {
    std::vector<std::vector<std::string>> tiers;
    for (const auto& url : trackers) tiers.push_back({url});  // as libtorrent does for magnets
    return tiers;
}
}  // namespace

MetadataJob::MetadataJob(SessionContext& ctx, MagnetLink link, std::filesystem::path download_dir,
                         bool paused, std::int64_t added_at, MetadataHandler on_metadata)
    : ctx_(ctx),
      link_(std::move(link)),
      download_dir_(std::move(download_dir)),
      added_at_(added_at),
      on_metadata_(std::move(on_metadata)),
      peer_list_(ctx.settings.tuning),
      fetch_(link_.info_hash),
      paused_(paused) {
    peer_list_.add(link_.peers, PeerSource::magnet);
}

MetadataJob::~MetadataJob() {
    for (auto& [ptr, peer] : peers_) peer.conn->detach();
    ctx_.connections -= static_cast<int>(peers_.size());
}

std::string MetadataJob::name() const {
    return link_.display_name.empty() ? to_hex(link_.info_hash) : link_.display_name;
}

void MetadataJob::start() {
    if (!paused_) activate();
}

void MetadataJob::pause() {
    if (paused_) return;
    paused_ = true;
    deactivate();
}

void MetadataJob::resume() {
    if (!paused_ && error_.empty()) return;
    error_.clear();
    done_ = false;
    paused_ = false;
    activate();
}

void MetadataJob::stop(std::function<void()> done) {
    auto trackers = std::move(announcer_);
    deactivate();
    if (!trackers) return boost::asio::post(ctx_.io, std::move(done));
    // The `stopped` announce completes on its own after the Announcer is destroyed.
    trackers->stop(std::move(done));
}

void MetadataJob::set_queued(bool queued) {
    if (queued == queued_) return;
    queued_ = queued;
    if (queued_)
        deactivate();
    else if (!paused_ && error_.empty())
        activate();
}

void MetadataJob::activate() {
    if (active() || done_ || queued_) return;
    announcer_ = std::make_unique<tracker::Announcer>(
        ctx_.trackers, one_tier_each(link_.trackers), link_.info_hash, ctx_.peer_id,
        [&ctx = ctx_] { return ctx.listen_port; },
        // The size is unknown: never 0, which would tell the tracker we are a seed.
        [] {
            return tracker::TransferTotals{0, 0, wire::kMetadataPieceSize};
        },
        [this, weak = std::weak_ptr<bool>(alive_)](std::vector<Endpoint> endpoints) {
            if (weak.lock()) add_peers(endpoints, PeerSource::tracker);
        });
    announcer_->start();
    connect_more();
}

void MetadataJob::deactivate() {
    announcer_.reset();
    auto peers = std::move(peers_);
    peers_.clear();
    ctx_.connections -= static_cast<int>(peers.size());
    for (auto& [ptr, peer] : peers) {
        fetch_.remove_peer(peer.key);
        if (!ptr->incoming()) peer_list_.mark_disconnected(ptr->remote(), ctx_.clock.now());
        peer.conn->detach();
    }
    half_open_ = 0;
}

void MetadataJob::fail(std::string message) {
    spdlog::error("{}: {}", name(), message);
    error_ = std::move(message);
    deactivate();
}

void MetadataJob::tick() {
    if (!active()) return;
    auto now = ctx_.clock.now();
    for (auto key : fetch_.timed_out(now))
        if (auto* peer = find(key)) peer->conn->close("metadata request timed out");
    drop_silent_peers(now);
    connect_more();
}

// Otherwise a peer that says nothing would hold one of the kMaxPeers slots for good, and keep
// out the one that has the metadata.
void MetadataJob::drop_silent_peers(Clock::time_point now) {
    std::vector<std::pair<std::shared_ptr<PeerConnection>, std::string>> silent;
    for (auto& [ptr, peer] : peers_) {
        if (!ptr->connected() || peer.handshake_at == Clock::time_point::max()) continue;
        auto reason =
            silent_peer_reason(now, peer.handshake_at, ptr->last_receive(), peer.ut_metadata != 0);
        if (reason) silent.emplace_back(peer.conn, std::move(*reason));
    }
    for (auto& [conn, reason] : silent) {
        spdlog::info("{}: {} dropped: {}", name(), endpoint_string(conn->remote()), reason);
        conn->close(reason);
    }
}

void MetadataJob::add_peers(const std::vector<Endpoint>& endpoints, PeerSource source) {
    peer_list_.add(endpoints, source);
    connect_more();
}

void MetadataJob::connect_more() {
    if (!active() || done_) return;
    for (const auto& ep : peer_list_.ready(ctx_.clock.now())) {
        if (static_cast<int>(peers_.size()) >= kMaxPeers ||
            half_open_ >= ctx_.settings.tuning.max_half_open ||
            ctx_.connections >= ctx_.connection_limit())
            break;
        if (ep.port() == ctx_.listen_port && ep.address().is_loopback()) continue;  // ourselves
        if (ctx_.self_endpoints.count(ep)) continue;
        dial(ep);
    }
}

void MetadataJob::dial(const Endpoint& ep) {
    peer_list_.mark_dialled(ep);
    auto conn = std::make_shared<PeerConnection>(
        ctx_.open_stream(ep), *this, wire::make_handshake(link_.info_hash, ctx_.peer_id),
        ctx_.dial_options());
    add_connection(conn);
    ++half_open_;
    conn->start_outgoing();
}

void MetadataJob::add_connection(const std::shared_ptr<PeerConnection>& conn) {
    conn->set_bandwidth({ctx_.download_limit}, {ctx_.upload_limit});
    peers_.emplace(conn.get(), Peer{conn, next_key_++, 0, Clock::time_point::max()});
    ++ctx_.connections;
}

bool MetadataJob::accept_incoming(std::unique_ptr<PeerStream> stream,
                                  const wire::Handshake& theirs) {
    if (!active() || done_ || static_cast<int>(peers_.size()) >= kMaxPeers) return false;
    const auto remote = stream->remote();
    if (peer_list_.endpoint_banned(remote) ||
        peer_list_.bad_data_banned(PeerList::offender_key(remote, theirs.peer_id)))
        return false;
    auto conn = std::make_shared<PeerConnection>(
        std::move(stream), *this, wire::make_handshake(link_.info_hash, ctx_.peer_id), theirs,
        ctx_.accept_options());
    add_connection(conn);
    conn->start_incoming();
    return true;
}

MetadataJob::Peer* MetadataJob::find(std::uint64_t key) {
    for (auto& [ptr, peer] : peers_)
        if (peer.key == key) return &peer;
    return nullptr;
}

// Our extension handshake: ut_metadata without a size (we have none yet), and have_none where
// the Fast extension requires us to say what we have.
void MetadataJob::on_peer_connected(PeerConnection& peer) {
    peer.state().set_offender(
        PeerList::offender_key(peer.remote(), peer.remote_handshake().peer_id));
    peer.state().set_client_from_peer_id(peer.remote_handshake().peer_id);
    if (!peer.incoming()) {
        --half_open_;
        peer_list_.on_handshake(peer.remote());
    }
    if (auto it = peers_.find(&peer); it != peers_.end())
        it->second.handshake_at = ctx_.clock.now();
    if (peer_list_.bad_data_banned(peer.state().offender()))
        return peer.close("banned: sent metadata that failed the hash check");
    if (!peer.remote_handshake().supports_extended())
        return peer.close("no extension protocol: it cannot send metadata");
    std::string out;
    if (peer.fast_extension()) wire::append_simple(out, wire::MsgType::have_none);
    wire::ExtensionHandshake ext;
    ext.messages[std::string(wire::kUtMetadata)] = wire::kOurUtMetadataId;
    ext.client = std::string(kClientName) + " " + std::string(kClientVersion);
    ext.listen_port = ctx_.listen_port;
    wire::append_extended(out, 0, wire::encode_extension_handshake(ext));
    peer.send(out);
}

void MetadataJob::on_peer_message(PeerConnection& peer, const wire::Message& msg) {
    if (msg.type != wire::MsgType::extended) return;  // pieces are the Torrent's business
    if (msg.ext_id == 0) return on_extension_handshake(peer, msg.payload);
    if (msg.ext_id == wire::kOurUtMetadataId) return on_metadata_message(peer, msg.payload);
}

void MetadataJob::on_extension_handshake(PeerConnection& peer, std::string_view payload) {
    auto it = peers_.find(&peer);
    auto ext = wire::decode_extension_handshake(payload);
    if (it == peers_.end() || !ext) return peer.close("unreadable extension handshake");
    peer.state().on_extension_handshake(*ext);
    if (peer.incoming() && ext->listen_port && incoming_listen_.size() < kMaxIncomingListen)
        incoming_listen_.emplace_back(peer.remote().address(), ext->listen_port);
    it->second.ut_metadata = peer.state().ut_metadata_id();
    if (it->second.ut_metadata == 0) return peer.close("it does not offer metadata (ut_metadata)");
    auto size = wire::handshake_metadata_size(payload);
    if (!size && ext->metadata_size > wire::kMaxMetadataSize)
        return peer.close_violation("metadata_size " + std::to_string(ext->metadata_size) +
                                    " is over the limit of 16 MiB");
    if (!size) return peer.close("it has no metadata either");
    fetch_.add_peer(it->second.key, *size);
    request_pieces(peer);
}

void MetadataJob::on_metadata_message(PeerConnection& peer, std::string_view payload) {
    auto it = peers_.find(&peer);
    if (it == peers_.end()) return;
    wire::MetadataMessage msg;
    try {
        msg = wire::decode_metadata_message(payload);
    } catch (const std::exception& e) {
        return peer.close_violation(std::string("bad ut_metadata message: ") + e.what());
    }
    auto key = it->second.key;
    switch (msg.type) {
        case wire::MetadataMsgType::request: {  // we have nothing to give yet
            std::string out;
            wire::append_extended(out, static_cast<std::uint8_t>(it->second.ut_metadata),
                                  wire::encode_metadata_reject(msg.piece));
            return peer.send(out);
        }
        case wire::MetadataMsgType::reject:
            fetch_.on_reject(key);
            return peer.close("it rejected our metadata request");
        case wire::MetadataMsgType::unknown:
            return;
        case wire::MetadataMsgType::data:
            break;
    }
    auto answer = fetch_.on_data(key, msg);
    for (auto bad : answer.ban) drop_bad_peer(bad, answer.reason);
    if (answer.metadata) return finish(std::move(*answer.metadata));
    for (auto& [ptr, p] : peers_)
        if (p.ut_metadata && ptr->connected()) request_pieces(*ptr);
}

void MetadataJob::request_pieces(PeerConnection& peer) {
    auto it = peers_.find(&peer);
    if (it == peers_.end() || done_) return;
    std::string out;
    for (auto piece : fetch_.requests_for(it->second.key, ctx_.clock.now()))
        wire::append_extended(out, static_cast<std::uint8_t>(it->second.ut_metadata),
                              wire::encode_metadata_request(piece));
    if (!out.empty()) peer.send(out);
}

// Banned for good, by endpoint and by who it is, so it cannot come back from another port.
void MetadataJob::drop_bad_peer(std::uint64_t key, const std::string& reason) {
    auto* peer = find(key);
    if (!peer) return;
    auto& conn = *peer->conn;
    peer_list_.add_strikes(std::vector<std::string>(
        static_cast<std::size_t>(ctx_.settings.tuning.ban_strikes), conn.state().offender()));
    if (!conn.incoming()) peer_list_.ban_endpoint(conn.remote());
    spdlog::info("{}: {} {}; banned", name(), endpoint_string(conn.remote()), reason);
    conn.close_violation(reason);
}

void MetadataJob::finish(std::string info_dict) {
    done_ = true;
    spdlog::info("{}: metadata received ({} bytes)", name(), info_dict.size());
    // The Session destroys this job in on_metadata: never inside a peer callback.
    boost::asio::post(
        ctx_.io, [weak = std::weak_ptr<bool>(alive_), this, info = std::move(info_dict)]() mutable {
            if (weak.lock()) on_metadata_(std::move(info));
        });
}

void MetadataJob::on_peer_closed(PeerConnection& peer, const std::string& reason) {
    auto it = peers_.find(&peer);
    if (it == peers_.end()) return;
    auto keep = it->second.conn;  // the connection must outlive this function
    fetch_.remove_peer(it->second.key);
    peers_.erase(it);
    --ctx_.connections;
    spdlog::debug("{}: {} {} closed: {}", name(), peer.incoming() ? "incoming" : "outgoing",
                  endpoint_string(peer.remote()), reason);
    if (!peer.incoming()) {
        if (!peer.connected()) --half_open_;
        using Reason = PeerConnection::CloseReason;
        auto ending = PeerList::Ending::ordinary;
        if (peer.close_reason() == Reason::connected_to_self) {
            ctx_.self_endpoints.insert(peer.remote());
            ending = PeerList::Ending::connected_to_self;
        } else if (peer.close_reason() == Reason::wrong_torrent) {
            ending = PeerList::Ending::wrong_torrent;
        } else if (peer.close_reason() == Reason::protocol_violation) {
            peer_list_.ban_endpoint(peer.remote());
        }
        peer_list_.on_closed(peer.remote(), ending, ctx_.clock.now());
    }
    connect_more();
}

std::vector<std::pair<MetadataJob::Endpoint, PeerSource>> MetadataJob::known_peers() const {
    std::map<Endpoint, PeerSource> out;
    auto source = [this](const Endpoint& ep) {
        return peer_list_.source_of(ep).value_or(PeerSource::magnet);
    };
    for (const auto& ep : link_.peers) out.emplace(ep, PeerSource::magnet);  // even if down now
    for (const auto& ep : peer_list_.ready(ctx_.clock.now())) out.emplace(ep, source(ep));
    for (const auto& [ptr, peer] : peers_)  // being dialled or connected: handed over too
        if (!ptr->incoming()) out.emplace(ptr->remote(), source(ptr->remote()));
    for (const auto& ep : incoming_listen_) out.emplace(ep, PeerSource::incoming);
    std::vector<std::pair<Endpoint, PeerSource>> list;
    for (const auto& [ep, src] : out)
        if (!peer_list_.endpoint_banned(ep)) list.emplace_back(ep, src);
    return list;
}

TorrentStatus MetadataJob::status() const {
    TorrentStatus s;
    s.id = link_.info_hash;
    s.name = name();
    s.state = paused_   ? TorrentState::paused
              : queued_ ? TorrentState::queued
                        : TorrentState::downloading_metadata;
    if (!error_.empty()) s.state = TorrentState::error;
    s.error = error_;
    s.metadata_progress = done_ ? 1.0 : fetch_.progress();
    s.download_dir = download_dir_;
    s.added_at = added_at_;
    for (const auto& [ptr, peer] : peers_)
        if (ptr->connected()) ++s.peers;
    return s;
}

TorrentDetails MetadataJob::details() const {
    TorrentDetails d;
    d.status = status();
    if (announcer_) d.trackers = announcer_->status();
    for (const auto& [ptr, peer] : peers_) {
        if (!ptr->connected()) continue;
        PeerStatus ps;
        ps.address = endpoint_string(ptr->remote());
        ps.client = ptr->state().client();
        ps.incoming = ptr->incoming();
        ps.source = ptr->incoming()
                        ? PeerSource::incoming
                        : peer_list_.source_of(ptr->remote()).value_or(PeerSource::magnet);
        d.peers.push_back(std::move(ps));
    }
    return d;
}

}  // namespace btd
