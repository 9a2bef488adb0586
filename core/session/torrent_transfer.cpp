#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/session/choker.hpp"
#include "core/session/request_scheduler.hpp"
#include "core/session/torrent.hpp"
#include "core/session/torrent_status.hpp"

// Moving data: requests to peers and the blocks they send, pieces verified and written (or
// failed and their senders struck), completion, requests from peers served from disk, and
// choking.

namespace btd {

// ---- downloading -----------------------------------------------------------------------------

void Torrent::drop_requests(PeerConnection& peer) {
    // A piece nobody is fetching any more, with no block in, must not keep its buffer: held
    // buffers count against the memory budget, and a full budget opens no new piece.
    for (int piece : picker_.abort_all(peer.state().key())) release_buffer(piece);
    peer.state().clear_requests();
}

void Torrent::request_blocks(PeerConnection& peer) {
    auto& st = peer.state();
    if (!st.am_interested() || !peer.connected() || peer.closed()) return;
    if (st.peer_choking() && st.allowed_fast_in().empty()) return;
    int want = request_scheduler::blocks_to_request(st.queue_target(),
                                                    static_cast<int>(st.requests().size()));
    if (want <= 0) return;
    int max_new = request_scheduler::new_pieces_allowed(
        ctx_.settings.memory_budget, ctx_.memory_in_use, meta_.piece_length, writer_.empty());
    const Bitfield* pickable = &st.pieces();
    Bitfield allowed;
    if (st.peer_choking()) {  // BEP 6: only allowed-fast pieces may be requested while choked
        allowed = request_scheduler::allowed_while_choked(st.pieces(), st.allowed_fast_in());
        pickable = &allowed;
    }
    auto blocks = picker_.pick(*pickable, st.key(), want, max_new);
    if (blocks.empty()) {
        if (st.requests().empty()) update_interest(peer);
        return;
    }
    open_buffers(blocks);
    std::string out;
    out.reserve(blocks.size() * 17);
    auto now = ctx_.clock.now();
    for (const auto& b : blocks) {
        wire::append_request(out, wire::MsgType::request, b.piece, b.offset, b.length);
        st.add_request(b, now);
    }
    peer.send(out);
}

void Torrent::open_buffers(const std::vector<BlockRef>& blocks) {
    for (const auto& b : blocks) writer_.open(b.piece, picker_.piece_size(b.piece));
}

void Torrent::on_block(PeerConnection& peer, const wire::Message& msg) {
    BlockRef block{static_cast<int>(msg.piece), static_cast<int>(msg.offset),
                   static_cast<int>(msg.length)};
    peer.state().add_downloaded(msg.length);
    download_.add(msg.length);
    if (peer.state().remove_request(block)) {
        peer.state().on_block_received(ctx_.clock.now());
    } else if (!writer_.contains(block.piece)) {
        wasted_bytes_ += msg.length;  // never requested, or for a piece no longer in progress
        return;
    }
    std::vector<PeerKey> others;
    if (picker_.block_received(block, peer.state().key(), others)) {
        writer_.add_block(block.piece, block.offset,
                          std::span<const char>(msg.payload.data(), msg.payload.size()),
                          picker_.piece_size(block.piece), peer.state().offender());
        cancel_duplicates(block, others);
        if (picker_.piece_fully_received(block.piece)) hash_and_write(block.piece);
    } else {
        wasted_bytes_ += msg.length;
    }
    request_blocks(peer);
}

// Endgame: the other peers asked for the same block are told to forget it.
void Torrent::cancel_duplicates(const BlockRef& block, const std::vector<PeerKey>& others) {
    for (PeerKey other_key : others) {
        std::string out;
        auto* other = find_peer(other_key);
        if (other && request_scheduler::cancel_raced_request(other->state(), block, out))
            other->send(out);
    }
}

// ---- verification and storage ------------------------------------------------------------------

void Torrent::hash_and_write(int piece) {
    disk_job_started();
    writer_.hash_and_write(piece, meta_.piece_hash(piece),
                           guarded([this, piece](PieceWriter::Outcome out) {
                               disk_job_finished();
                               on_piece_done(piece, std::move(out));
                           }));
}

void Torrent::on_piece_done(int piece, PieceWriter::Outcome out) {
    if (!out.write.changed.empty()) {
        picker_.piece_failed(piece);
        return recheck_files(out.write.changed);
    }
    if (!out.hash_ok) return on_piece_failed(piece, out.contributors);
    if (!out.write.error.empty()) {
        picker_.piece_failed(piece);
        return out.write.transient ? wait_out_disk_error(out.write.error)
                                   : set_error(TorrentErrorCode::write_failed, out.write.error);
    }
    on_piece_written(piece);
}

void Torrent::on_piece_written(int piece) {
    disk_retry_delay_ = {};  // writing works (again)
    picker_.we_have(piece);
    std::string have;
    wire::append_have(have, static_cast<std::uint32_t>(piece));
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        peer->send(have);
        if (peer->state().am_interested() && peer->state().requests().empty())
            update_interest(*peer);
    }
    pieces_arrived_ = true;
    emit(PieceVerifiedEvent{piece});
    if (finished()) emit(StateChangedEvent{.new_state = status().state});  // now seeding
    if (finished()) on_completed();
}

void Torrent::on_piece_failed(int piece, const std::vector<std::string>& contributors) {
    picker_.piece_failed(piece);
    corrupt_bytes_ += meta_.piece_size(piece);
    spdlog::warn("{}: piece {} failed its hash check; fetching it again", meta_.name, piece);
    emit(PieceFailedEvent{piece});
    for (const auto& key : peer_list_.add_strikes(contributors)) ban_for_bad_data(key);
    for (auto& [ptr, peer] : peers_) request_blocks(*peer);
}

void Torrent::ban_for_bad_data(const std::string& offender) {
    std::vector<PeerConnection*> offenders;
    for (auto& [ptr, peer] : peers_)
        if (peer->connected() && peer->state().offender() == offender) offenders.push_back(ptr);
    for (auto* peer : offenders) {
        spdlog::warn("{}: banning {} for sending bad data", meta_.name,
                     endpoint_string(peer->remote()));
        if (!peer->incoming()) peer_list_.ban_endpoint(peer->remote());
        peer->close("banned: sent data that failed the hash check");
    }
    if (offenders.empty())
        spdlog::warn("{}: banning {} for sending bad data", meta_.name, offender);
}

// ---- completion ------------------------------------------------------------------------------

void Torrent::on_completed() {
    if (checking_ || stopping_) return;  // a check ends with its own call
    // Every wanted file must still be the one btd wrote or verified, at full length; only
    // zero-length files (no pieces) are created here, never a sparse stand-in for a lost file.
    // (No fsync here: save_resume_data() flushes before any saved state claims the pieces.)
    auto storage = storage_;
    std::vector<bool> wanted, empty_wanted;
    for (std::size_t f = 0; f < meta_.files.size(); ++f) {
        bool w = file_priorities_[f] != kPriorityDontDownload;
        wanted.push_back(w);
        empty_wanted.push_back(w && meta_.files[f].length == 0);
    }
    struct Outcome {
        std::vector<FileProblem> problems;
        std::string error;
    };
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage, wanted = std::move(wanted), empty_wanted = std::move(empty_wanted)] {
            Outcome out;
            try {
                out.problems = storage->find_changed_files(wanted, true, true);
                if (out.problems.empty()) storage->create_files(empty_wanted);
            } catch (const std::exception& e) {
                out.error = e.what();
            }
            return out;
        },
        guarded([this](Outcome out) {
            disk_job_finished();
            if (!out.error.empty()) return set_error(TorrentErrorCode::check_failed, out.error);
            if (!out.problems.empty()) return recheck_files(out.problems);
            if (!finished() || checking_) return;  // a file was wanted again meanwhile
            announce_completion();
        }));
}

void Torrent::announce_completion() {
    seeding_since_ = ctx_.clock.now();
    std::vector<PeerConnection*> seeds;
    for (auto& [ptr, peer] : peers_) {
        update_interest(*peer);
        if (peer->connected() && peer->state().pieces().all()) seeds.push_back(ptr);
    }
    for (auto* p : seeds) p->close("both sides are seeds");
    if (!completed_announced_ && is_complete()) {  // not for a partial download
        completed_announced_ = true;
        if (announcer_) announcer_->completed();
        spdlog::info("{}: download complete", meta_.name);
    }
    bool downloaded = std::exchange(pieces_arrived_, false);
    if (downloaded || done_at_ == 0) done_at_ = ctx_.clock.unix_seconds();
    emit(CompletedEvent{.downloaded = downloaded});
    emit(ResumeDataChangedEvent{});
}

// ---- uploading ---------------------------------------------------------------------------------

UploadQueue::Limits Torrent::upload_limits() const {
    return {tuning_.max_upload_queue, tuning_.max_reads_in_flight, tuning_.max_invalid_requests};
}

void Torrent::reject(PeerConnection& peer, const BlockRef& block) {
    std::string out;
    wire::append_request(out, wire::MsgType::reject_request, block.piece, block.offset,
                         block.length);
    peer.send(out);
}

void Torrent::handle_request(PeerConnection& peer, const wire::Message& msg) {
    BlockRef block{static_cast<int>(msg.piece), static_cast<int>(msg.offset),
                   static_cast<int>(msg.length)};
    bool valid = msg.piece < static_cast<std::uint32_t>(meta_.num_pieces()) && msg.length > 0 &&
                 msg.length <= wire::kMaxBlockLength &&
                 std::int64_t(msg.offset) + msg.length <= meta_.piece_size(block.piece) &&
                 picker_.have(block.piece);
    auto verdict = peer.state().uploads().on_request(block, valid, peer.state().am_choking(),
                                                     peer.fast_extension(), upload_limits());
    switch (verdict.answer) {
        case UploadQueue::Answer::queued:
            return serve_uploads(peer);
        case UploadQueue::Answer::reject:
            // Without the Fast extension a refused request is silently dropped.
            if (peer.fast_extension()) reject(peer, block);
            return;
        case UploadQueue::Answer::violation:
            return peer.close_violation(verdict.reason);
    }
}

void Torrent::on_peer_writable(PeerConnection& peer) {
    serve_uploads(peer);
}

// Reads ahead only as far as the socket drains, so a slow peer never piles up memory.
void Torrent::serve_uploads(PeerConnection& peer) {
    auto self = peers_.find(&peer);
    if (self == peers_.end()) return;
    std::weak_ptr<PeerConnection> weak_peer = self->second;
    while (!peer.closed()) {
        auto block = peer.state().uploads().next_read(
            peer.send_queue_bytes() < PeerConnection::kLowWatermark, upload_limits());
        if (!block) return;
        struct Read {
            std::vector<std::uint8_t> data;
            std::string error;
            std::vector<FileProblem> changed;  // never served: checked again first
        };
        disk_job_started();
        ctx_.disk.submit(
            ctx_.io,
            [storage = storage_, block = *block] {
                Read r;
                r.data.resize(block.length);
                try {
                    storage->read(block.piece, block.offset, r.data);
                } catch (const FileChangedError& e) {
                    r.changed = changed_files_after(*storage, e);
                } catch (const std::exception& e) {
                    r.error = e.what();
                }
                return r;
            },
            guarded([this, block = *block, weak = weak_peer](Read r) {
                disk_job_finished();
                if (!r.changed.empty()) return recheck_files(r.changed);
                if (!r.error.empty())
                    return set_error(TorrentErrorCode::read_failed,
                                     "cannot read data to upload: " + r.error);
                auto peer = weak.lock();
                if (!peer || peer->closed()) return;
                on_block_read(*peer, block, r.data);
            }),
            DiskJobKind::read);
    }
}

void Torrent::on_block_read(PeerConnection& peer, const BlockRef& block,
                            std::vector<std::uint8_t>& data) {
    if (!peer.state().uploads().read_done(block)) return;  // cancelled or choked meanwhile
    std::string out;
    out.reserve(13 + data.size());
    wire::append_piece_header(out, block.piece, block.offset,
                              static_cast<std::uint32_t>(data.size()));
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
    peer.send(out);
    last_upload_ = ctx_.clock.now();
    peer.state().add_uploaded(block.length, last_upload_);
    upload_.add(block.length);
    serve_uploads(peer);
}

// ---- choking -----------------------------------------------------------------------------------

void Torrent::set_choke(PeerConnection& peer, bool choke) {
    if (!peer.state().set_am_choking(choke, ctx_.clock.now())) return;
    std::string out;
    wire::append_simple(out, choke ? wire::MsgType::choke : wire::MsgType::unchoke);
    if (choke) {
        // Queued requests die with the choke; with the Fast extension each gets a reject,
        // except those for allowed-fast pieces, which we still serve.
        for (const auto& b : peer.state().uploads().on_choke(peer.fast_extension()))
            if (peer.fast_extension())
                wire::append_request(out, wire::MsgType::reject_request, b.piece, b.offset,
                                     b.length);
    }
    peer.send(out);
}

choker::Candidate Torrent::choker_candidate(const PeerConnection& peer, bool seeding) const {
    const auto& st = peer.state();
    choker::Candidate c;
    c.interested = st.peer_interested();
    // A peer that has every piece wants nothing from us, whatever it has not said yet.
    c.undecided =
        !st.peer_interest_known() && !st.pieces().all() && !picker_.have_bitfield().none();
    c.snubbed = st.snubbed();
    c.optimistic = st.optimistic();
    c.rate = seeding ? st.upload().rate() : st.download().rate();
    c.last_unchoked = st.last_unchoked();
    c.connected_at = peer.connected_at();
    return c;
}

void Torrent::rechoke(bool rotate_optimistic) {
    bool seeding = finished();  // then rank peers by what they take, else by what they give
    std::vector<PeerConnection*> connected;
    std::vector<choker::Candidate> candidates;
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        connected.push_back(ptr);
        candidates.push_back(choker_candidate(*peer, seeding));
    }
    auto decision = choker::decide(candidates, ctx_.settings.upload_slots, rotate_optimistic,
                                   ctx_.clock.now(), tuning_, ctx_.rng);
    for (std::size_t i = 0; i < connected.size(); ++i) {
        connected[i]->state().set_optimistic(static_cast<int>(i) == decision.optimistic);
        set_choke(*connected[i], !decision.unchoke[i]);
    }
}

void Torrent::check_seed_limits() {
    if (!finished() || paused_ || !active()) return;
    double ratio_limit = limits_.ratio_limit.value_or(ctx_.settings.ratio_limit);
    auto idle_limit = limits_.seed_idle_limit.value_or(ctx_.settings.seed_idle_limit);
    auto reason = torrent_status::seed_limit_reached(
        status().ratio, ratio_limit, idle_limit, ctx_.clock.now(), last_upload_, seeding_since_);
    if (reason.empty()) return;
    spdlog::info("{}: stopped seeding: {}", meta_.name, reason);
    pause();
}

}  // namespace btd
