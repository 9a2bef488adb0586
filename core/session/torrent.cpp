#include "core/session/torrent.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/storage/checker.hpp"
#include "core/storage/file_stat.hpp"

namespace btd {

namespace {
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kMaxHalfOpen = 16;
constexpr int kMinQueue = 16;
constexpr int kMaxQueue = 500;   // libtorrent's default limit on requests it queues per peer
constexpr auto kQueueTime = 3s;  // keep this much data in flight per peer, at its current rate
constexpr auto kRequestTimeout = 20s;
constexpr auto kInactivityTimeout = 120s;
constexpr auto kKeepAliveInterval = 90s;
constexpr int kBanStrikes = 4;
constexpr std::size_t kMaxKnownPeers = 2000;

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string endpoint_string(const boost::asio::ip::tcp::endpoint& ep) {
    if (ep.address().is_v6()) return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}
}  // namespace

template <class Fn>
auto Torrent::guarded(Fn fn) {
    return [weak = std::weak_ptr<bool>(alive_), fn = std::move(fn)](auto&&... args) mutable {
        if (weak.lock()) fn(std::forward<decltype(args)>(args)...);
    };
}

Torrent::Torrent(SessionContext& ctx, Metainfo meta, std::filesystem::path download_dir,
                 std::optional<ResumeData> resume, bool paused, std::int64_t added_at)
    : ctx_(ctx),
      meta_(std::move(meta)),
      download_dir_(std::move(download_dir)),
      storage_(std::make_shared<Storage>(meta_, download_dir_)),
      picker_(meta_.num_pieces(), meta_.piece_length, meta_.total_size),
      resume_(std::move(resume)),
      paused_(paused),
      added_at_(added_at ? added_at : now_seconds()) {
    if (resume_) {
        downloaded_base_ = resume_->total_downloaded;
        uploaded_base_ = resume_->total_uploaded;
        if (resume_->added_at) added_at_ = resume_->added_at;
    }
}

Torrent::~Torrent() {
    if (check_cancel_) *check_cancel_ = true;
    for (auto& [ptr, peer] : peers_) peer->detach();
    for (auto& [piece, buf] : buffers_) ctx_.memory_in_use -= buf.size;
}

void Torrent::emit(SessionEvent::Kind kind, std::string message) {
    ctx_.emit(SessionEvent{kind, meta_.info_hash, std::move(message)});
}

// ---- lifecycle -------------------------------------------------------------------------------

void Torrent::start() {
    std::vector<bool> to_check(meta_.num_pieces(), true);
    if (resume_ && static_cast<int>(resume_->have.size()) == meta_.num_pieces() &&
        resume_->files.size() == meta_.files.size()) {
        // Trust the resume data for files that did not change; re-check pieces touching the rest.
        auto now = stat_files(meta_, download_dir_);
        std::vector<bool> changed(meta_.files.size(), false);
        for (std::size_t f = 0; f < meta_.files.size(); ++f) {
            if (meta_.files[f].pad) continue;
            changed[f] = now[f].size != resume_->files[f].size ||
                         now[f].mtime != resume_->files[f].mtime;
        }
        std::fill(to_check.begin(), to_check.end(), false);
        for (std::size_t f = 0; f < meta_.files.size(); ++f) {
            const auto& file = meta_.files[f];
            if (!changed[f] || file.length == 0) continue;
            int first = static_cast<int>(file.offset / meta_.piece_length);
            int last = static_cast<int>((file.offset + file.length - 1) / meta_.piece_length);
            for (int p = first; p <= last; ++p) to_check[p] = true;
        }
        for (int p = 0; p < meta_.num_pieces(); ++p)
            if (!to_check[p] && resume_->have[p] == '1') picker_.we_have(p);
    }
    resume_.reset();
    begin_check(to_check);
}

void Torrent::begin_check(const std::vector<bool>& pieces_to_check) {
    pieces_to_check_ = static_cast<int>(std::count(pieces_to_check.begin(), pieces_to_check.end(), true));
    checked_pieces_ = 0;
    if (pieces_to_check_ == 0) return on_check_done();
    checking_ = true;
    emit(SessionEvent::Kind::state_changed, "checking");
    check_cancel_ = std::make_shared<std::atomic<bool>>(false);
    disk_job_started();
    check_all_pieces(
        ctx_.disk, ctx_.io, storage_, pieces_to_check,
        guarded([this](int piece, bool ok) {
            ++checked_pieces_;
            if (ok) picker_.we_have(piece);
        }),
        guarded([this] {
            disk_job_finished();
            if (!checking_) return;
            checking_ = false;
            on_check_done();
        }),
        check_cancel_);
}

void Torrent::on_check_done() {
    spdlog::info("{}: {} of {} pieces present", meta_.name, picker_.have_bitfield().count(),
                 meta_.num_pieces());
    if (is_complete()) completed_announced_ = true;  // nothing to announce as newly completed
    emit(SessionEvent::Kind::resume_data_changed);
    if (!paused_ && !stopping_ && error_.empty()) activate();
    emit(SessionEvent::Kind::state_changed, to_string(status().state));
    if (is_complete()) on_completed();
}

void Torrent::activate() {
    if (active()) return;
    announcer_ = std::make_unique<tracker::Announcer>(
        ctx_.trackers, meta_.announce_tiers, meta_.info_hash, ctx_.peer_id, ctx_.listen_port,
        [this] {
            tracker::TransferTotals t;
            t.uploaded = uploaded_base_ + upload_.total();
            t.downloaded = downloaded_base_ + download_.total();
            t.left = meta_.total_size - have_bytes();
            return t;
        },
        guarded([this](std::vector<Endpoint> endpoints) { add_peers(endpoints); }));
    announcer_->start();
}

void Torrent::deactivate(std::function<void()> trackers_stopped) {
    if (announcer_) {
        // The `stopped` announce completes on its own after the Announcer is destroyed.
        announcer_->stop([trackers_stopped = std::move(trackers_stopped)] {
            if (trackers_stopped) trackers_stopped();
        });
        announcer_.reset();
    } else if (trackers_stopped) {
        trackers_stopped();
    }
    auto peers = std::move(peers_);
    peers_.clear();
    for (auto& [ptr, peer] : peers) {
        picker_.abort_all(reinterpret_cast<PeerKey>(ptr));
        if (peer->connected()) picker_.peer_lost_bitfield(peer->peer_has);
        auto it = known_peers_.find(peer->remote());
        if (it != known_peers_.end()) it->second.connected = false;
        peer->detach();
    }
    half_open_ = 0;
    // Partly downloaded pieces are dropped to give their memory back.
    std::vector<int> partial;
    for (auto& [piece, buf] : buffers_)
        if (!buf.hashing) partial.push_back(piece);
    for (int piece : partial) {
        picker_.piece_failed(piece);
        release_buffer(piece);
    }
}

void Torrent::pause() {
    if (paused_) return;
    paused_ = true;
    deactivate();
    emit(SessionEvent::Kind::state_changed, "paused");
    emit(SessionEvent::Kind::resume_data_changed);
}

void Torrent::resume() {
    if (!paused_ && error_.empty()) return;
    paused_ = false;
    error_.clear();
    if (!checking_) activate();
    emit(SessionEvent::Kind::state_changed, to_string(status().state));
    emit(SessionEvent::Kind::resume_data_changed);
}

void Torrent::verify() {
    if (checking_) return;
    deactivate();
    error_.clear();
    picker_ = PiecePicker(meta_.num_pieces(), meta_.piece_length, meta_.total_size);
    completed_announced_ = false;
    begin_check(std::vector<bool>(meta_.num_pieces(), true));
}

void Torrent::stop(std::function<void()> done) {
    stopping_ = true;
    cancel_check();
    // Done when both the trackers were told `stopped` and no disk job is left.
    auto pending = std::make_shared<int>(2);
    auto step = [pending, done = std::move(done)] {
        if (--*pending == 0) done();
    };
    deactivate(step);
    if (disk_jobs_ == 0) step();
    else on_disk_idle_.push_back(step);
}

void Torrent::delete_files(std::function<void()> done) {
    auto storage = storage_;
    ctx_.disk.submit(
        ctx_.io,
        [storage] {
            std::string error;
            try {
                storage->close_files();
                storage->delete_files();
            } catch (const std::exception& e) {
                error = e.what();
            }
            return error;
        },
        [done = std::move(done), name = meta_.name](std::string error) {
            if (!error.empty()) spdlog::warn("{}: deleting data: {}", name, error);
            done();
        });
}

void Torrent::cancel_check() {
    if (!checking_) return;
    *check_cancel_ = true;  // the checker then calls nothing back, so account for it here
    checking_ = false;
    disk_job_finished();
}

void Torrent::disk_job_finished() {
    if (--disk_jobs_ > 0) return;
    auto waiters = std::move(on_disk_idle_);
    on_disk_idle_.clear();
    for (auto& w : waiters) w();
}

void Torrent::set_error(const std::string& message) {
    spdlog::error("{}: {}", meta_.name, message);
    error_ = message;
    deactivate();
    emit(SessionEvent::Kind::error, message);
}

void Torrent::set_limits(const TorrentLimits& limits) {
    if (limits.download_rate_limit) limits_.download_rate_limit = limits.download_rate_limit;
    if (limits.upload_rate_limit) limits_.upload_rate_limit = limits.upload_rate_limit;
    if (limits.ratio_limit) limits_.ratio_limit = limits.ratio_limit;
}

// ---- peers -----------------------------------------------------------------------------------

void Torrent::add_peers(const std::vector<Endpoint>& endpoints) {
    for (const auto& ep : endpoints) {
        if (known_peers_.size() >= kMaxKnownPeers) break;
        if (ep.port() == 0) continue;
        known_peers_.try_emplace(ep);
    }
    connect_more();
}

void Torrent::connect_more() {
    if (!active() || is_complete() || stopping_) return;
    auto now = Clock::now();
    int limit = ctx_.settings.max_peers_per_torrent;
    for (auto& [ep, info] : known_peers_) {
        if (static_cast<int>(peers_.size()) >= limit || half_open_ >= kMaxHalfOpen) break;
        if (info.connected || info.banned || info.next_attempt > now) continue;
        info.connected = true;
        auto peer = std::make_shared<PeerConnection>(
            ctx_.io, ep, *this, wire::make_handshake(meta_.info_hash, ctx_.peer_id),
            PeerConnection::Options{});
        peer->peer_has = Bitfield(meta_.num_pieces());
        peers_.emplace(peer.get(), peer);
        ++half_open_;
        peer->start_outgoing();
    }
}

PeerConnection* Torrent::find_peer(PeerKey key) {
    auto it = peers_.find(reinterpret_cast<PeerConnection*>(key));
    return it == peers_.end() ? nullptr : it->first;
}

void Torrent::on_peer_connected(PeerConnection& peer) {
    --half_open_;
    auto& info = known_peers_[peer.remote()];
    info.failures = 0;
    std::string out;
    const auto& have = picker_.have_bitfield();
    if (peer.fast_extension() && have.all()) {
        wire::append_simple(out, wire::MsgType::have_all);
    } else if (peer.fast_extension() && have.none()) {
        wire::append_simple(out, wire::MsgType::have_none);
    } else if (!have.none()) {
        wire::append_bitfield(out, have.wire_bytes());
    }
    peer.send(out);
    spdlog::debug("{}: connected to {} ({})", meta_.name, endpoint_string(peer.remote()),
                  wire::client_name(peer.remote_handshake().peer_id));
}

void Torrent::on_peer_closed(PeerConnection& peer, const std::string& reason) {
    auto it = peers_.find(&peer);
    if (it == peers_.end()) return;
    auto keep = it->second;  // the connection must outlive this function
    peers_.erase(it);
    if (!peer.connected()) --half_open_;
    drop_requests(peer);
    if (peer.connected()) picker_.peer_lost_bitfield(peer.peer_has);
    auto& info = known_peers_[peer.remote()];
    info.connected = false;
    if (reason == "connected to ourselves" || reason == "handshake for another torrent") {
        info.banned = true;
    } else {
        // Back off from peers that fail; a peer that served us well may come back soon.
        ++info.failures;
        auto delay = std::chrono::seconds(std::min(300, 5 << std::min(info.failures, 6)));
        info.next_attempt = Clock::now() + delay;
    }
    spdlog::debug("{}: {} closed: {}", meta_.name, endpoint_string(peer.remote()), reason);
    connect_more();
}

void Torrent::drop_requests(PeerConnection& peer) {
    picker_.abort_all(reinterpret_cast<PeerKey>(&peer));
    peer.requests.clear();
}

void Torrent::update_interest(PeerConnection& peer) {
    bool interested = false;
    if (!is_complete()) {
        const auto& have = picker_.have_bitfield();
        for (std::size_t i = 0; i < have.size() && !interested; ++i)
            interested = peer.peer_has.test(i) && !have.test(i);
    }
    if (interested == peer.am_interested) return;
    peer.am_interested = interested;
    std::string out;
    wire::append_simple(out, interested ? wire::MsgType::interested : wire::MsgType::not_interested);
    peer.send(out);
}

void Torrent::on_peer_message(PeerConnection& peer, const wire::Message& msg) {
    using wire::MsgType;
    auto key = reinterpret_cast<PeerKey>(&peer);
    const int num_pieces = meta_.num_pieces();
    switch (msg.type) {
        case MsgType::keep_alive:
        case MsgType::port:
        case MsgType::suggest_piece:
        case MsgType::allowed_fast:
        case MsgType::extended:
            return;
        case MsgType::choke:
            peer.peer_choking = true;
            drop_requests(peer);
            return;
        case MsgType::unchoke:
            peer.peer_choking = false;
            return request_blocks(peer);
        case MsgType::interested:
            peer.peer_interested = true;
            return;
        case MsgType::not_interested:
            peer.peer_interested = false;
            return;
        case MsgType::have:
            if (msg.piece >= static_cast<std::uint32_t>(num_pieces))
                return peer.close("have for piece " + std::to_string(msg.piece) + " out of range");
            if (!peer.peer_has.test(msg.piece)) {
                peer.peer_has.set(msg.piece);
                picker_.peer_has_piece(static_cast<int>(msg.piece));
                if (!peer.am_interested && !picker_.have(static_cast<int>(msg.piece)))
                    update_interest(peer);
                request_blocks(peer);
            }
            return;
        case MsgType::bitfield: {
            Bitfield bits(num_pieces);
            if (!bits.assign_wire(msg.payload)) return peer.close("invalid bitfield");
            picker_.peer_lost_bitfield(peer.peer_has);
            peer.peer_has = std::move(bits);
            picker_.peer_has_bitfield(peer.peer_has);
            peer.has_all_pieces = peer.peer_has.all();
            update_interest(peer);
            return request_blocks(peer);
        }
        case MsgType::have_all:
        case MsgType::have_none: {
            if (!peer.fast_extension()) return peer.close("Fast extension message without support");
            picker_.peer_lost_bitfield(peer.peer_has);
            peer.peer_has = Bitfield(num_pieces);
            if (msg.type == MsgType::have_all) peer.peer_has.set_all();
            picker_.peer_has_bitfield(peer.peer_has);
            peer.has_all_pieces = msg.type == MsgType::have_all;
            update_interest(peer);
            return request_blocks(peer);
        }
        case MsgType::request:
            // Uploading comes with the seeding work; refuse politely where the protocol allows.
            if (peer.fast_extension()) {
                std::string out;
                wire::append_request(out, MsgType::reject_request, msg.piece, msg.offset, msg.length);
                peer.send(out);
            }
            return;
        case MsgType::cancel:
            return;
        case MsgType::reject_request: {
            if (!peer.fast_extension()) return peer.close("reject without Fast extension");
            auto it = std::find_if(peer.requests.begin(), peer.requests.end(), [&](auto& r) {
                return r.block.piece == static_cast<int>(msg.piece) &&
                       r.block.offset == static_cast<int>(msg.offset);
            });
            if (it != peer.requests.end()) {
                picker_.abort_request(it->block, key);
                peer.requests.erase(it);
            }
            return;
        }
        case MsgType::piece:
            return on_block(peer, msg);
    }
}

void Torrent::on_block(PeerConnection& peer, const wire::Message& msg) {
    auto key = reinterpret_cast<PeerKey>(&peer);
    auto it = std::find_if(peer.requests.begin(), peer.requests.end(), [&](auto& r) {
        return r.block.piece == static_cast<int>(msg.piece) &&
               r.block.offset == static_cast<int>(msg.offset) &&
               r.block.length == static_cast<int>(msg.length);
    });
    peer.download.add(msg.length);
    download_.add(msg.length);
    if (it == peer.requests.end()) {
        wasted_bytes_ += msg.length;  // unrequested or already cancelled
        return;
    }
    BlockRef block = it->block;
    peer.requests.erase(it);
    peer.last_block = Clock::now();
    peer.snubbed = false;

    std::vector<PeerKey> others;
    if (picker_.block_received(block, key, others)) {
        auto& buf = buffers_[block.piece];
        std::copy(msg.payload.begin(), msg.payload.end(),
                  reinterpret_cast<char*>(buf.data.get()) + block.offset);
        if (std::find(buf.contributors.begin(), buf.contributors.end(), peer.remote()) ==
            buf.contributors.end())
            buf.contributors.push_back(peer.remote());
        for (PeerKey other_key : others) {
            auto* other = find_peer(other_key);
            if (!other) continue;
            auto r = std::find_if(other->requests.begin(), other->requests.end(),
                                  [&](auto& req) { return req.block == block; });
            if (r == other->requests.end()) continue;
            other->requests.erase(r);
            std::string out;
            wire::append_request(out, wire::MsgType::cancel, block.piece, block.offset, block.length);
            other->send(out);
        }
        if (picker_.piece_fully_received(block.piece)) hash_and_write(block.piece);
    } else {
        wasted_bytes_ += msg.length;
    }
    request_blocks(peer);
}

void Torrent::request_blocks(PeerConnection& peer) {
    if (peer.peer_choking || !peer.am_interested || !peer.connected() || peer.closed()) return;
    int want = peer.queue_target - static_cast<int>(peer.requests.size());
    // Batch requests so one message arrival doesn't trigger a tiny send.
    if (want < std::min(8, peer.queue_target / 4 + 1) && !peer.requests.empty()) return;
    if (want <= 0) return;
    std::int64_t budget = ctx_.settings.memory_budget - ctx_.memory_in_use;
    int max_new = static_cast<int>(std::max<std::int64_t>(0, budget / meta_.piece_length));
    if (buffers_.empty()) max_new = std::max(max_new, 1);  // always make progress
    auto blocks = picker_.pick(peer.peer_has, reinterpret_cast<PeerKey>(&peer), want, max_new);
    if (blocks.empty()) {
        if (peer.requests.empty()) update_interest(peer);
        return;
    }
    std::string out;
    out.reserve(blocks.size() * 17);
    auto now = Clock::now();
    for (const auto& b : blocks) {
        auto& buf = buffers_[b.piece];
        if (!buf.data) {
            buf.size = picker_.piece_size(b.piece);
            buf.data = std::make_unique_for_overwrite<std::uint8_t[]>(buf.size);
            ctx_.memory_in_use += buf.size;
        }
        wire::append_request(out, wire::MsgType::request, b.piece, b.offset, b.length);
        peer.requests.push_back({b, now});
    }
    peer.send(out);
}

// ---- verification and storage ------------------------------------------------------------------

void Torrent::hash_and_write(int piece) {
    auto& buf = buffers_[piece];
    buf.hashing = true;
    struct Result {
        bool ok = false;
        std::string error;
    };
    disk_job_started();
    auto storage = storage_;
    auto expected = meta_.piece_hashes[piece];
    const std::uint8_t* data = buf.data.get();
    std::size_t size = buf.size;
    ctx_.disk.submit(
        ctx_.io,
        [storage, expected, data, size, piece] {
            Result r;
            r.ok = sha1(std::span(data, size)) == expected;
            if (!r.ok) return r;
            try {
                storage->write_piece(piece, std::span(data, size));
            } catch (const std::exception& e) {
                r.error = e.what();
            }
            return r;
        },
        guarded([this, piece](Result r) {
            disk_job_finished();
            on_piece_written(piece, r.ok, r.error);
        }));
}

void Torrent::on_piece_written(int piece, bool hash_ok, const std::string& error) {
    auto contributors = std::move(buffers_[piece].contributors);
    release_buffer(piece);
    if (!hash_ok) return on_piece_failed(piece, contributors);
    if (!error.empty()) {
        picker_.piece_failed(piece);
        return set_error(error);
    }
    picker_.we_have(piece);
    std::string have;
    wire::append_have(have, static_cast<std::uint32_t>(piece));
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        peer->send(have);
        if (peer->am_interested && peer->requests.empty()) update_interest(*peer);
    }
    emit(SessionEvent::Kind::piece_verified, std::to_string(piece));
    if (is_complete()) on_completed();
}

void Torrent::on_piece_failed(int piece, const std::vector<Endpoint>& contributors) {
    picker_.piece_failed(piece);
    spdlog::warn("{}: piece {} failed its hash check; fetching it again", meta_.name, piece);
    emit(SessionEvent::Kind::piece_failed, std::to_string(piece));
    for (const auto& ep : contributors) {
        auto& info = known_peers_[ep];
        info.strikes += contributors.size() == 1 ? 2 : 1;
        if (info.strikes < kBanStrikes || info.banned) continue;
        info.banned = true;
        spdlog::warn("{}: banning {} for sending bad data", meta_.name, endpoint_string(ep));
        for (auto& [ptr, peer] : peers_)
            if (peer->remote() == ep) {
                ptr->close("banned: sent data that failed the hash check");
                break;
            }
    }
    for (auto& [ptr, peer] : peers_) request_blocks(*peer);
}

void Torrent::release_buffer(int piece) {
    auto it = buffers_.find(piece);
    if (it == buffers_.end()) return;
    ctx_.memory_in_use -= it->second.size;
    buffers_.erase(it);
}

void Torrent::on_completed() {
    // Zero-length files have no pieces: create every file, then flush before saying "complete".
    auto storage = storage_;
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage] {
            std::string error;
            try {
                storage->create_files();
                storage->flush();
            } catch (const std::exception& e) {
                error = e.what();
            }
            return error;
        },
        guarded([this](std::string error) {
            disk_job_finished();
            if (!error.empty()) return set_error(error);
            for (auto& [ptr, peer] : peers_) update_interest(*peer);
            if (!completed_announced_) {
                completed_announced_ = true;
                if (announcer_) announcer_->completed();
                spdlog::info("{}: download complete", meta_.name);
            }
            emit(SessionEvent::Kind::completed);
            emit(SessionEvent::Kind::resume_data_changed);
        }));
}

void Torrent::save_resume_data(std::function<void(ResumeData)> done) {
    ResumeData rd;
    rd.have = picker_.have_bitfield().to_string();
    rd.paused = paused_;
    rd.total_downloaded = downloaded_base_ + download_.total();
    rd.total_uploaded = uploaded_base_ + upload_.total();
    rd.added_at = added_at_;
    rd.download_dir = download_dir_;
    auto storage = storage_;
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage, dir = download_dir_] {
            try {
                storage->flush();
            } catch (const std::exception& e) {
                spdlog::warn("flush before saving resume data: {}", e.what());
            }
            return stat_files(storage->metainfo(), dir);
        },
        [this, weak = std::weak_ptr<bool>(alive_), rd = std::move(rd),
         done = std::move(done)](std::vector<ResumeFileInfo> stats) mutable {
            for (auto& s : stats) rd.files.push_back({s.size, s.mtime});
            if (weak.lock()) disk_job_finished();
            done(std::move(rd));
        });
}

// ---- status ----------------------------------------------------------------------------------

std::int64_t Torrent::have_bytes() const {
    const auto& have = picker_.have_bitfield();
    std::int64_t bytes = static_cast<std::int64_t>(have.count()) * meta_.piece_length;
    int last = meta_.num_pieces() - 1;
    if (last >= 0 && have.test(last)) bytes -= meta_.piece_length - meta_.piece_size(last);
    return bytes;
}

TorrentStatus Torrent::status() const {
    TorrentStatus s;
    s.id = meta_.info_hash;
    s.name = meta_.name;
    s.size = meta_.total_size;
    s.have_bytes = have_bytes();
    s.downloaded = downloaded_base_ + download_.total();
    s.uploaded = uploaded_base_ + upload_.total();
    s.download_rate = download_.rate();
    s.upload_rate = upload_.rate();
    s.download_dir = download_dir_;
    s.added_at = added_at_;
    s.error = error_;
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        ++s.peers;
        if (peer->has_all_pieces || peer->peer_has.all()) ++s.seeds;
    }
    if (!error_.empty()) s.state = TorrentState::error;
    else if (checking_) s.state = TorrentState::checking;
    else if (paused_) s.state = TorrentState::paused;
    else if (is_complete()) s.state = TorrentState::seeding;
    else s.state = TorrentState::downloading;
    if (checking_)
        s.progress = pieces_to_check_ ? double(checked_pieces_) / pieces_to_check_ : 0;
    else
        s.progress = s.size ? double(s.have_bytes) / double(s.size) : 1.0;
    if (s.state == TorrentState::downloading && s.download_rate > 0)
        s.eta = (s.size - s.have_bytes) / s.download_rate;
    s.ratio = s.downloaded ? double(s.uploaded) / double(s.downloaded) : 0;
    return s;
}

TorrentDetails Torrent::details() const {
    TorrentDetails d;
    d.status = status();
    d.pieces = picker_.have_bitfield().to_string();
    d.piece_length = meta_.piece_length;
    d.is_private = meta_.is_private;
    d.comment = meta_.comment;
    const auto& have = picker_.have_bitfield();
    for (const auto& f : meta_.files) {
        FileStatus fs;
        fs.path = f.path.generic_string();
        fs.size = f.length;
        fs.pad = f.pad;
        if (f.length > 0) {
            int first = static_cast<int>(f.offset / meta_.piece_length);
            int last = static_cast<int>((f.offset + f.length - 1) / meta_.piece_length);
            for (int p = first; p <= last; ++p) {
                if (!have.test(p)) continue;
                std::int64_t begin = std::max<std::int64_t>(f.offset, std::int64_t(p) * meta_.piece_length);
                std::int64_t end = std::min<std::int64_t>(f.offset + f.length,
                                                          std::int64_t(p) * meta_.piece_length + meta_.piece_size(p));
                fs.have_bytes += end - begin;
            }
        }
        d.files.push_back(std::move(fs));
    }
    if (announcer_) d.trackers = announcer_->status();
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        PeerStatus ps;
        ps.address = endpoint_string(peer->remote());
        ps.client = wire::client_name(peer->remote_handshake().peer_id);
        ps.progress = meta_.num_pieces() ? double(peer->peer_has.count()) / meta_.num_pieces() : 0;
        ps.download_rate = peer->download.rate();
        ps.upload_rate = peer->upload.rate();
        if (!peer->requests.empty()) ps.flags += 'D';
        if (peer->peer_choking) ps.flags += 'c';
        if (peer->am_interested) ps.flags += 'i';
        if (peer->snubbed) ps.flags += 's';
        d.peers.push_back(std::move(ps));
    }
    return d;
}

// ---- housekeeping ----------------------------------------------------------------------------

void Torrent::tick() {
    download_.tick();
    upload_.tick();
    auto now = Clock::now();
    std::vector<PeerConnection*> to_close;
    for (auto& [ptr, peer] : peers_) {
        peer->download.tick();
        peer->upload.tick();
        if (!peer->connected()) continue;
        if (now - peer->last_receive > kInactivityTimeout) {
            to_close.push_back(ptr);
            continue;
        }
        if (!peer->requests.empty() &&
            now - std::max(peer->last_block, peer->requests.front().sent) > kRequestTimeout) {
            // Snubbed: give its blocks to others and ask it for very little until it delivers.
            peer->snubbed = true;
            drop_requests(*peer);
            peer->queue_target = 1;
        } else if (!peer->snubbed) {
            auto rate = peer->download.rate();
            auto target = rate * std::chrono::duration_cast<std::chrono::seconds>(kQueueTime).count() / kBlockSize;
            peer->queue_target = static_cast<int>(std::clamp<std::int64_t>(target, kMinQueue, kMaxQueue));
        }
        if (now - peer->last_send > kKeepAliveInterval) {
            std::string ka;
            wire::append_keep_alive(ka);
            peer->send(ka);
        }
        request_blocks(*peer);
    }
    for (auto* ptr : to_close) ptr->close("no message for " + std::to_string(kInactivityTimeout.count()) + " s");
    connect_more();
}

}  // namespace btd
