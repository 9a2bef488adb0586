#include "core/session/torrent.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "core/peer/extension.hpp"
#include "core/session/peer_policy.hpp"
#include "core/storage/checker.hpp"
#include "core/storage/file_stat.hpp"
#include "core/storage/os_error.hpp"

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
constexpr std::size_t kMaxUploadQueue = 500;  // what we announce as `reqq`
constexpr std::size_t kMaxReadsInFlight = 8;  // disk reads per peer
constexpr int kMaxInvalidRequests = 50;
constexpr int kRechokeEvery = 10;     // seconds
constexpr int kOptimisticEvery = 30;  // seconds
constexpr std::size_t kAllowedFastCount = 10;
constexpr std::size_t kMaxKnownPeers = 2000;
// Waits after a transient disk error (out of space or descriptors) before trying again.
constexpr auto kFirstDiskRetry = 5s;
constexpr auto kMaxDiskRetry = 300s;
// A connected peer that has given nothing for this long (neither side interested, no payload
// either way) may be dropped when its slot is wanted for a new candidate or an incoming peer.
constexpr auto kUselessPeerGrace = 60s;
constexpr int kFilesCheckEvery = 30;  // seconds between checks that files are still ours

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string endpoint_string(const boost::asio::ip::tcp::endpoint& ep) {
    if (ep.address().is_v6())
        return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}
}  // namespace

// On the pool: the file behind `e`, and every other file deleted or replaced meanwhile (a removed
// directory takes several at once), so one re-check covers them all.
std::vector<FileProblem> Torrent::changed_files_after(Storage& storage, const FileChangedError& e) {
    std::vector<FileProblem> out{{e.file(), e.reason()}};
    try {
        for (auto& p : storage.find_changed_files({}, false, false))
            if (p.file != e.file()) out.push_back(std::move(p));
    } catch (...) {  // the one file is enough to act on
    }
    return out;
}

template <class Fn>
auto Torrent::guarded(Fn fn) {
    return [weak = std::weak_ptr<bool>(alive_), fn = std::move(fn)](auto&&... args) mutable {
        if (weak.lock()) fn(std::forward<decltype(args)>(args)...);
    };
}

Torrent::Torrent(SessionContext& ctx, Metainfo meta, std::filesystem::path download_dir,
                 std::optional<ResumeData> resume, bool paused, std::int64_t added_at,
                 const std::vector<int>& file_priorities, bool sequential)
    : ctx_(ctx),
      meta_(std::move(meta)),
      download_dir_(std::move(download_dir)),
      storage_(std::make_shared<Storage>(meta_, download_dir_)),
      picker_(meta_.num_pieces(), meta_.piece_length, meta_.total_size),
      resume_(std::move(resume)),
      paused_(paused),
      added_at_(added_at ? added_at : now_seconds()),
      download_limit_(std::make_shared<RateLimiter>(ctx.io)),
      upload_limit_(std::make_shared<RateLimiter>(ctx.io)),
      disk_retry_timer_(ctx.io) {
    file_priorities_.assign(meta_.files.size(), kPriorityDefault);
    if (resume_) {
        set_limits(resume_->limits);
        downloaded_base_ = resume_->total_downloaded;
        uploaded_base_ = resume_->total_uploaded;
        if (resume_->added_at) added_at_ = resume_->added_at;
        sequential = resume_->sequential;
    }
    if (!file_priorities.empty()) {
        check_file_priorities(file_priorities);
        file_priorities_.assign(file_priorities.begin(), file_priorities.end());
    }
    if (resume_ && !resume_->file_priorities.empty()) {
        try {
            check_file_priorities(resume_->file_priorities);
            file_priorities_.assign(resume_->file_priorities.begin(),
                                    resume_->file_priorities.end());
        } catch (const SessionError& e) {
            spdlog::warn("{}: saved file priorities ignored: {}", meta_.name, e.what());
        }
    }
    apply_file_priorities();
    picker_.set_sequential(sequential);
}

Torrent::~Torrent() {
    if (check_cancel_) *check_cancel_ = true;
    for (auto& [ptr, peer] : peers_) peer->detach();
    ctx_.connections -= static_cast<int>(peers_.size());
    for (auto& [piece, buf] : buffers_) ctx_.memory_in_use -= buf.size;
}

void Torrent::emit(EventPayload event) {
    ctx_.emit(SessionEvent{meta_.info_hash, std::move(event)});
}

// ---- lifecycle -------------------------------------------------------------------------------

void Torrent::start() {
    std::vector<bool> to_check(meta_.num_pieces(), true);
    if (resume_ && static_cast<int>(resume_->have.size()) == meta_.num_pieces() &&
        resume_->files.size() == meta_.files.size()) {
        // Trust the resume data for files that did not change; re-check pieces touching the rest.
        auto now = stat_files(meta_, download_dir_);
        std::fill(to_check.begin(), to_check.end(), false);
        std::vector<FileIdentity> unchanged(meta_.files.size());
        for (std::size_t f = 0; f < meta_.files.size(); ++f) {
            if (meta_.files[f].pad) continue;
            if (resume_file_changed(resume_->files[f], now[f]))
                mark_file_pieces(static_cast<int>(f), to_check);
            else
                unchanged[f] = now[f];
        }
        // A byte that is not on disk is never had, whatever the resume data says.
        auto cut_short = pieces_past_file_ends(now);
        for (int p = 0; p < meta_.num_pieces(); ++p)
            if (!to_check[p] && !cut_short[p] && resume_->have[p] == '1') picker_.we_have(p);
        storage_->adopt_identities(unchanged);
    }
    resume_.reset();
    begin_check(to_check);
}

bool Torrent::resume_file_changed(const ResumeFile& saved, const FileIdentity& now) {
    if (now.size != saved.size || now.mtime != saved.mtime) return true;
    if (saved.inode != 0 && static_cast<std::uint64_t>(saved.inode) != now.inode) return true;
    return saved.mtime_ns >= 0 && saved.mtime_ns != now.mtime_ns;
}

std::pair<int, int> Torrent::piece_span(std::int64_t begin, std::int64_t end) const {
    return {static_cast<int>(begin / meta_.piece_length),
            static_cast<int>((end - 1) / meta_.piece_length)};
}

void Torrent::mark_file_pieces(int file, std::vector<bool>& pieces) const {
    const auto& f = meta_.files[file];
    if (f.length == 0) return;
    auto [first, last] = piece_span(f.offset, f.offset + f.length);
    for (int p = first; p <= last; ++p) pieces[p] = true;
}

std::vector<bool> Torrent::pieces_past_file_ends(const std::vector<FileIdentity>& now) const {
    std::vector<bool> out(meta_.num_pieces(), false);
    for (std::size_t i = 0; i < meta_.files.size(); ++i) {
        const auto& f = meta_.files[i];
        std::int64_t on_disk = std::max<std::int64_t>(0, now[i].size);
        if (f.pad || f.length == 0 || on_disk >= f.length) continue;
        auto [first, last] = piece_span(f.offset + on_disk, f.offset + f.length);
        for (int p = first; p <= last; ++p) out[p] = true;
    }
    return out;
}

void Torrent::begin_check(const std::vector<bool>& pieces_to_check) {
    pieces_to_check_ =
        static_cast<int>(std::count(pieces_to_check.begin(), pieces_to_check.end(), true));
    checked_pieces_ = 0;
    if (pieces_to_check_ == 0) return on_check_done();
    checking_ = true;
    emit(StateChangedEvent{.new_state = TorrentState::checking});
    check_cancel_ = std::make_shared<std::atomic<bool>>(false);
    disk_job_started();
    check_all_pieces(ctx_.disk, ctx_.io, storage_, pieces_to_check,
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
                     check_cancel_, {.priority = added_at_});
}

void Torrent::on_check_done() {
    if (!recheck_pending_.empty() && !stopping_) return start_pending_recheck();
    spdlog::info("{}: {} of {} pieces present", meta_.name, picker_.have_bitfield().count(),
                 meta_.num_pieces());
    if (is_complete()) completed_announced_ = true;  // nothing to announce as newly completed
    emit(ResumeDataChangedEvent{});
    if (!paused_ && !stopping_ && error_.empty()) activate();
    emit(StateChangedEvent{.new_state = status().state});
    if (finished()) on_completed();
}

void Torrent::activate() {
    if (active()) return;
    announcer_ = std::make_unique<tracker::Announcer>(
        ctx_.trackers, meta_.announce_tiers, meta_.info_hash, ctx_.peer_id,
        [&ctx = ctx_] { return ctx.listen_port; },
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
    ctx_.connections -= static_cast<int>(peers.size());
    for (auto& [ptr, peer] : peers) {
        picker_.abort_all(reinterpret_cast<PeerKey>(ptr));
        if (peer->connected()) picker_.peer_lost_bitfield(peer->peer_has);
        auto it = known_peers_.find(peer->remote());
        if (it != known_peers_.end()) it->second.connected = false;
        peer->detach();
    }
    half_open_ = 0;
    download_.clear_rate();
    upload_.clear_rate();
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
    emit(StateChangedEvent{.new_state = TorrentState::paused});
    emit(ResumeDataChangedEvent{});
}

void Torrent::resume() {
    if (!paused_ && error_.empty()) return;
    paused_ = false;
    error_.clear();
    seeding_since_ = Clock::now();  // the idle-seeding limit counts from here again
    if (!checking_) activate();
    emit(StateChangedEvent{.new_state = status().state});
    emit(ResumeDataChangedEvent{});
}

void Torrent::verify() {
    if (checking_) return;
    deactivate();
    error_.clear();
    reset_picker();
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
    if (disk_jobs_ == 0)
        step();
    else
        on_disk_idle_.push_back(step);
}

void Torrent::when_disk_idle(std::function<void()> fn) {
    if (disk_jobs_ == 0) return fn();
    on_disk_idle_.push_back(std::move(fn));
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

void Torrent::recheck_files(const std::vector<FileProblem>& problems) {
    for (const auto& p : problems) {
        spdlog::warn("{}: '{}' {}; checking its pieces again", meta_.name,
                     (download_dir_ / meta_.files[p.file].path).string(), p.reason);
        recheck_pending_.insert(p.file);
    }
    if (!checking_ && !stopping_) start_pending_recheck();  // else on_check_done starts it
}

// The pieces of changed files stop counting (and being served) until a check says otherwise;
// peers are dropped so no request for them is in flight, and come back after the check.
void Torrent::start_pending_recheck() {
    std::vector<int> files(recheck_pending_.begin(), recheck_pending_.end());
    recheck_pending_.clear();
    deactivate();
    storage_->forget_files(files);
    std::vector<bool> to_check(meta_.num_pieces(), false);
    for (int f : files) mark_file_pieces(f, to_check);
    Bitfield had = picker_.have_bitfield();
    reset_picker();
    for (int p = 0; p < meta_.num_pieces(); ++p)
        if (had.test(p) && !to_check[p]) picker_.we_have(p);
    emit(ResumeDataChangedEvent{});
    begin_check(to_check);
}

void Torrent::check_files_on_disk() {
    if (files_check_running_ || checking_ || stopping_ || !error_.empty() || !active()) return;
    files_check_running_ = true;
    bool seeding = finished();  // btd writes nothing: size and mtime must not move either
    auto storage = storage_;
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage, seeding] {
            try {
                return storage->find_changed_files({}, seeding, false);
            } catch (...) {
                return std::vector<FileProblem>{};
            }
        },
        guarded([this](std::vector<FileProblem> problems) {
            disk_job_finished();
            files_check_running_ = false;
            if (!problems.empty() && !stopping_) recheck_files(problems);
        }));
}

void Torrent::disk_job_finished() {
    if (--disk_jobs_ > 0) return;
    auto waiters = std::move(on_disk_idle_);
    on_disk_idle_.clear();
    for (auto& w : waiters) w();
}

void Torrent::set_error(TorrentErrorCode code, const std::string& message) {
    spdlog::error("{}: {}", meta_.name, message);
    error_ = message;
    deactivate();
    emit(ErrorEvent{code, message});
}

// Out of space or descriptors usually passes (a file is deleted, a connection flood ends): stop
// for a while and start again, instead of an `error` only the user can clear. The wait doubles
// while writes keep failing and resets once a piece is written.
void Torrent::wait_out_disk_error(const std::string& message) {
    if (!disk_error_.empty()) return;  // already waiting: other pieces failed alongside
    disk_retry_delay_ = disk_retry_delay_.count()
                            ? std::min<std::chrono::seconds>(disk_retry_delay_ * 2, kMaxDiskRetry)
                            : kFirstDiskRetry;
    spdlog::warn("{}: {}; trying again in {} s", meta_.name, message, disk_retry_delay_.count());
    disk_error_ = message;
    deactivate();
    disk_retry_timer_.expires_after(disk_retry_delay_);
    disk_retry_timer_.async_wait(guarded([this](const boost::system::error_code& ec) {
        if (ec) return;
        disk_error_.clear();
        if (paused_ || stopping_ || checking_ || !error_.empty()) return;
        activate();
        emit(StateChangedEvent{.new_state = status().state});
    }));
}

void Torrent::set_limits(const TorrentLimits& limits) {
    if (limits.download_rate_limit) limits_.download_rate_limit = limits.download_rate_limit;
    if (limits.upload_rate_limit) limits_.upload_rate_limit = limits.upload_rate_limit;
    if (limits.ratio_limit) limits_.ratio_limit = limits.ratio_limit;
    download_limit_->set_rate(limits_.download_rate_limit.value_or(0));
    upload_limit_->set_rate(limits_.upload_rate_limit.value_or(0));
}

void Torrent::set_file_priorities(const std::vector<int>& priorities) {
    check_file_priorities(priorities);
    bool was_finished = finished();
    file_priorities_.assign(priorities.begin(), priorities.end());
    apply_file_priorities();
    move_parts_to_wanted_files();
    if (checking_ || !error_.empty() || was_finished == finished()) return;
    if (finished()) return on_completed();
    // More to download: back to work with the peers we have (and the seeds we dropped).
    completed_announced_ = is_complete();
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        update_interest(*peer);
        request_blocks(*peer);
    }
    connect_more();
    emit(StateChangedEvent{.new_state = status().state});
}

// A file wanted again gets the bytes kept for it in the part store now, not only when a piece
// of it is next written: all of its pieces may be verified already.
void Torrent::move_parts_to_wanted_files() {
    auto storage = storage_;
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage] {
            std::string error;
            try {
                storage->move_parts_to_wanted_files();
            } catch (const std::exception& e) {
                error = e.what();
            }
            return error;
        },
        guarded([this](std::string error) {
            disk_job_finished();
            if (!error.empty()) set_error(TorrentErrorCode::write_failed, error);
        }));
}

void Torrent::check_file_priorities(const std::vector<int>& priorities) const {
    if (priorities.size() != meta_.files.size())
        throw SessionError(SessionError::Code::invalid_argument,
                           "file priorities: expected " + std::to_string(meta_.files.size()) +
                               " values (one per file), got " + std::to_string(priorities.size()));
    for (int p : priorities)
        if (p < kPriorityDontDownload || p > kPriorityMax)
            throw SessionError(SessionError::Code::invalid_argument,
                               "file priority " + std::to_string(p) + " is outside 0..7");
}

// A piece is as important as the most important file it holds; pad files do not count.
void Torrent::apply_file_priorities() {
    std::vector<std::uint8_t> pieces(meta_.num_pieces(), kPriorityDontDownload);
    std::vector<bool> skipped(meta_.files.size(), false);
    wanted_size_ = 0;
    skips_files_ = false;
    for (std::size_t f = 0; f < meta_.files.size(); ++f) {
        const auto& file = meta_.files[f];
        if (file.pad || file.length == 0) continue;
        auto priority = file_priorities_[f];
        if (priority != kPriorityDontDownload)
            wanted_size_ += file.length;
        else
            skips_files_ = skipped[f] = true;
        auto [first, last] = piece_span(file.offset, file.offset + file.length);
        for (int p = first; p <= last; ++p) pieces[p] = std::max(pieces[p], priority);
    }
    picker_.set_piece_priorities(pieces);
    storage_->set_skipped_files(std::move(skipped));
}

void Torrent::reset_picker() {
    bool sequential = picker_.sequential();
    picker_ = PiecePicker(meta_.num_pieces(), meta_.piece_length, meta_.total_size);
    picker_.set_sequential(sequential);
    apply_file_priorities();
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
    // Dropping a peer below calls on_peer_closed, which calls back here: one loop at a time.
    if (!active() || stopping_ || connecting_) return;
    connecting_ = true;
    struct Done {
        bool& flag;
        ~Done() { flag = false; }
    } done{connecting_};
    auto now = Clock::now();
    const int limit = ctx_.settings.max_peers_per_torrent;
    auto per_address = connections_per_address();
    bool turned_over = false;  // at most one useless peer dropped per call: slow, steady churn
    for (auto& [ep, info] : known_peers_) {
        if (half_open_ >= kMaxHalfOpen || ctx_.connections >= ctx_.connection_limit()) break;
        if (!dialable(ep, info, now, per_address)) continue;
        if (static_cast<int>(peers_.size()) >= limit) {
            if (turned_over || !drop_useless_peer(false)) break;
            turned_over = true;
        }
        ++per_address[peer_policy::address_group(ep.address())];
        dial(ep, info);
    }
}

bool Torrent::dialable(const Endpoint& ep, const KnownPeer& info, Clock::time_point now,
                       const std::map<boost::asio::ip::address, int>& per_address) const {
    if (info.connected || info.banned || info.next_attempt > now) return false;
    if (ep.port() == ctx_.listen_port && ep.address().is_loopback()) return false;  // ourselves
    if (ctx_.self_endpoints.count(ep)) return false;  // answered with our own peer id before
    auto it = per_address.find(peer_policy::address_group(ep.address()));
    return it == per_address.end() ||
           it->second < peer_policy::per_address_limit(ep.address(), ctx_.settings);
}

void Torrent::dial(const Endpoint& ep, KnownPeer& info) {
    info.connected = true;
    auto peer = std::make_shared<PeerConnection>(
        ctx_.io, ep, *this, wire::make_handshake(meta_.info_hash, ctx_.peer_id),
        PeerConnection::Options{});
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
    peer->peer_has = Bitfield(meta_.num_pieces());
    // The largest legal frame: a block, our bitfield, or an extension message.
    peer->set_max_frame(
        std::max<std::size_t>({kBlockSize + 13, peer->peer_has.bytes().size() + 1, 64 * 1024}));
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

// Drops the oldest peer that has given nothing for kUselessPeerGrace: neither side interested
// and no payload either way. False if there is none.
bool Torrent::drop_useless_peer(bool incoming_only) {
    auto now = Clock::now();
    PeerConnection* victim = nullptr;
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected() || peer->am_interested || peer->peer_interested) continue;
        if (incoming_only && !peer->incoming()) continue;
        auto last_payload = std::max({peer->connected_at, peer->last_block, peer->last_upload});
        if (now - last_payload < kUselessPeerGrace) continue;
        if (!victim || peer->connected_at < victim->connected_at) victim = ptr;
    }
    if (!victim) return false;
    victim->close("making room for a new peer");
    return true;
}

bool Torrent::accept_incoming(boost::asio::ip::tcp::socket socket, const wire::Handshake& theirs) {
    if (!accepting()) return false;
    if (theirs.peer_id == ctx_.peer_id) return false;
    for (auto& [ptr, peer] : peers_)
        if (peer->connected() && peer->remote_handshake().peer_id == theirs.peer_id) return false;
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (ec) return false;
    auto known = known_peers_.find(remote);
    if (known != known_peers_.end() && known->second.banned) return false;
    auto offender = offender_key(remote, theirs.peer_id);
    if (banned_.count(offender) || violators_.banned(offender, Clock::now())) return false;
    auto per_address = connections_per_address();
    if (per_address[peer_policy::address_group(remote.address())] >=
        peer_policy::per_address_limit(remote.address(), ctx_.settings))
        return false;
    if (!make_room_for_incoming()) return false;
    auto peer = std::make_shared<PeerConnection>(
        std::move(socket), *this, wire::make_handshake(meta_.info_hash, ctx_.peer_id), theirs,
        PeerConnection::Options{});
    add_connection(peer);
    peer->start_incoming();
    return true;
}

PeerConnection* Torrent::find_peer(PeerKey key) {
    auto it = peers_.find(reinterpret_cast<PeerConnection*>(key));
    return it == peers_.end() ? nullptr : it->first;
}

void Torrent::on_peer_connected(PeerConnection& peer) {
    peer.offender = offender_key(peer.remote(), peer.remote_handshake().peer_id);
    if (!peer.incoming()) {
        --half_open_;
        known_peers_[peer.remote()].failures = 0;
        for (auto& [ptr, other] : peers_)
            if (ptr != &peer && other->connected() &&
                other->remote_handshake().peer_id == peer.remote_handshake().peer_id)
                return peer.close("duplicate connection");
        if (banned_.count(peer.offender)) {  // the same offender behind another port
            known_peers_[peer.remote()].banned = true;
            return peer.close("banned: sent data that failed the hash check");
        }
        if (violators_.banned(peer.offender, Clock::now()))  // the same violator, another port
            return peer.close("banned for breaking the protocol");
    }
    peer.client = wire::client_name(peer.remote_handshake().peer_id);
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
        ext.request_queue = static_cast<int>(kMaxUploadQueue);
        wire::append_extended(out, 0, wire::encode_extension_handshake(ext));
    }
    if (peer.fast_extension() && peer.remote().address().is_v4()) {
        peer.allowed_fast_out =
            wire::allowed_fast_set(peer.remote().address().to_v4().to_uint(), meta_.info_hash,
                                   meta_.num_pieces(), kAllowedFastCount);
        for (auto piece : peer.allowed_fast_out)
            if (have.test(piece)) wire::append_piece_index(out, wire::MsgType::allowed_fast, piece);
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
    --ctx_.connections;
    if (!peer.connected() && !peer.incoming()) --half_open_;
    bool was_unchoked = !peer.am_choking;
    drop_requests(peer);
    if (peer.connected()) picker_.peer_lost_bitfield(peer.peer_has);
    using Reason = PeerConnection::CloseReason;
    if (peer.close_reason() == Reason::protocol_violation) record_violation(peer, reason);
    if (peer.incoming()) return connect_more();  // its port is not a listen port: forget it
    auto& info = known_peers_[peer.remote()];
    info.connected = false;
    if (peer.close_reason() == Reason::connected_to_self) {
        spdlog::info("{}: {} is ourselves; never dialling it again", meta_.name,
                     endpoint_string(peer.remote()));
        ctx_.self_endpoints.insert(peer.remote());
        info.banned = true;
    } else if (peer.close_reason() == Reason::wrong_torrent) {
        info.banned = true;
    } else if (peer.close_reason() != Reason::protocol_violation) {
        // Back off from peers that fail; a peer that served us well may come back soon.
        info.next_attempt = Clock::now() + peer_policy::redial_delay(++info.failures);
    }
    spdlog::debug("{}: {} closed: {}", meta_.name, endpoint_string(peer.remote()), reason);
    if (was_unchoked) rechoke(false);  // give its upload slot to someone else now
    connect_more();
}

// Bans a protocol violator for a time that grows with each violation and is not reset by a
// clean handshake: by endpoint for dialling, by offender key for incoming connections.
void Torrent::record_violation(PeerConnection& peer, const std::string& reason) {
    auto now = Clock::now();
    std::optional<std::chrono::seconds> ban;
    if (!peer.offender.empty()) ban = violators_.record(peer.offender, now);  // refused incoming
    if (!peer.incoming()) {  // and not dialled again before the ban ends
        auto& info = known_peers_[peer.remote()];
        ban = peer_policy::violation_ban(++info.violations);
        if (ban)
            info.next_attempt = now + *ban;
        else
            info.banned = true;
    }
    spdlog::info("{}: {} broke the protocol ({}); banned {}", meta_.name,
                 endpoint_string(peer.remote()), reason,
                 ban ? "for " + std::to_string(ban->count()) + " s" : std::string("for good"));
}

void Torrent::drop_requests(PeerConnection& peer) {
    // A piece nobody is fetching any more, with no block in, must not keep its buffer: held
    // buffers count against the memory budget, and a full budget opens no new piece.
    for (int piece : picker_.abort_all(reinterpret_cast<PeerKey>(&peer))) release_buffer(piece);
    peer.requests.clear();
}

void Torrent::update_interest(PeerConnection& peer) {
    bool interested = picker_.is_interesting(peer.peer_has);
    if (interested == peer.am_interested) return;
    peer.am_interested = interested;
    std::string out;
    wire::append_simple(out,
                        interested ? wire::MsgType::interested : wire::MsgType::not_interested);
    peer.send(out);
}

void Torrent::on_peer_message(PeerConnection& peer, const wire::Message& msg) {
    using wire::MsgType;
    auto key = reinterpret_cast<PeerKey>(&peer);
    const int num_pieces = meta_.num_pieces();
    switch (msg.type) {
        case MsgType::keep_alive:
        case MsgType::port:
            return;
        case MsgType::suggest_piece:
            if (!peer.fast_extension())
                return peer.close_violation("suggest without Fast extension");
            return;  // our picker's order is good enough; suggestions are only hints
        case MsgType::allowed_fast:
            if (!peer.fast_extension())
                return peer.close_violation("allowed fast without Fast extension");
            if (msg.piece < static_cast<std::uint32_t>(num_pieces) &&
                peer.allowed_fast_in.size() < 64 &&
                std::find(peer.allowed_fast_in.begin(), peer.allowed_fast_in.end(), msg.piece) ==
                    peer.allowed_fast_in.end())
                peer.allowed_fast_in.push_back(msg.piece);
            return request_blocks(peer);
        case MsgType::extended:
            if (msg.ext_id == 0) {
                if (auto ext = wire::decode_extension_handshake(msg.payload)) {
                    if (ext->request_queue) peer.peer_request_limit = ext->request_queue;
                    if (!ext->client.empty()) peer.client = ext->client;
                }
            }
            return;
        case MsgType::choke:
            peer.peer_choking = true;
            // With the Fast extension the peer rejects what it won't serve; without it, a
            // choke silently drops every outstanding request.
            if (!peer.fast_extension()) drop_requests(peer);
            return;
        case MsgType::unchoke:
            peer.peer_choking = false;
            return request_blocks(peer);
        case MsgType::interested:
            peer.peer_interested = true;
            return rechoke(false);  // a free slot is given at once, not at the next round
        case MsgType::not_interested:
            peer.peer_interested = false;
            if (!peer.am_choking) rechoke(false);
            return;
        case MsgType::have:
            if (msg.piece >= static_cast<std::uint32_t>(num_pieces))
                return peer.close_violation("have for piece " + std::to_string(msg.piece) +
                                            " out of range");
            if (!peer.peer_has.test(msg.piece)) {
                peer.peer_has.set(msg.piece);
                picker_.peer_has_piece(static_cast<int>(msg.piece));
                if (!peer.am_interested && picker_.wants(static_cast<int>(msg.piece)))
                    update_interest(peer);
                request_blocks(peer);
            }
            return;
        case MsgType::bitfield: {
            Bitfield bits(num_pieces);
            if (!bits.assign_wire(msg.payload)) return peer.close_violation("invalid bitfield");
            picker_.peer_lost_bitfield(peer.peer_has);
            peer.peer_has = std::move(bits);
            picker_.peer_has_bitfield(peer.peer_has);
            peer.has_all_pieces = peer.peer_has.all();
            update_interest(peer);
            return request_blocks(peer);
        }
        case MsgType::have_all:
        case MsgType::have_none: {
            if (!peer.fast_extension())
                return peer.close_violation("Fast extension message without support");
            picker_.peer_lost_bitfield(peer.peer_has);
            peer.peer_has = Bitfield(num_pieces);
            if (msg.type == MsgType::have_all) peer.peer_has.set_all();
            picker_.peer_has_bitfield(peer.peer_has);
            peer.has_all_pieces = msg.type == MsgType::have_all;
            update_interest(peer);
            return request_blocks(peer);
        }
        case MsgType::request:
            return handle_request(peer, msg);
        case MsgType::cancel: {
            BlockRef block{static_cast<int>(msg.piece), static_cast<int>(msg.offset),
                           static_cast<int>(msg.length)};
            auto q = std::find(peer.upload_queue.begin(), peer.upload_queue.end(), block);
            if (q != peer.upload_queue.end()) {
                peer.upload_queue.erase(q);
                if (peer.fast_extension()) reject(peer, block);  // BEP 6: every request is answered
            }
            return;
        }
        case MsgType::reject_request: {
            if (!peer.fast_extension())
                return peer.close_violation("reject without Fast extension");
            auto it = std::find_if(peer.requests.begin(), peer.requests.end(), [&](auto& r) {
                return r.block.piece == static_cast<int>(msg.piece) &&
                       r.block.offset == static_cast<int>(msg.offset);
            });
            if (it != peer.requests.end()) {
                if (picker_.abort_request(it->block, key)) release_buffer(it->block.piece);
                peer.requests.erase(it);
            }
            return;
        }
        case MsgType::piece:
            return on_block(peer, msg);
    }
}

// ---- uploading ---------------------------------------------------------------------------------

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
    bool allowed_fast = std::find(peer.allowed_fast_out.begin(), peer.allowed_fast_out.end(),
                                  msg.piece) != peer.allowed_fast_out.end();
    if (!valid) {
        if (++peer.invalid_requests > kMaxInvalidRequests)
            return peer.close_violation("too many invalid requests");
        if (peer.fast_extension()) reject(peer, block);
        return;
    }
    if (peer.am_choking && !allowed_fast) {
        if (peer.fast_extension()) reject(peer, block);
        return;  // without the Fast extension, a request while choked is silently dropped
    }
    if (peer.upload_queue.size() >= kMaxUploadQueue) {
        if (peer.fast_extension()) return reject(peer, block);
        return peer.close_violation("request flood: more than " + std::to_string(kMaxUploadQueue) +
                                    " queued");
    }
    if (std::find(peer.upload_queue.begin(), peer.upload_queue.end(), block) !=
            peer.upload_queue.end() ||
        std::find(peer.reads_in_flight.begin(), peer.reads_in_flight.end(), block) !=
            peer.reads_in_flight.end()) {
        if (peer.fast_extension()) reject(peer, block);  // one answer per request, even repeats
        return;
    }
    peer.upload_queue.push_back(block);
    serve_uploads(peer);
}

void Torrent::on_peer_writable(PeerConnection& peer) {
    serve_uploads(peer);
}

void Torrent::serve_uploads(PeerConnection& peer) {
    auto self = peers_.find(&peer);
    if (self == peers_.end()) return;
    std::weak_ptr<PeerConnection> weak_peer = self->second;
    // Read ahead only as far as the socket drains, so a slow peer never piles up memory.
    while (!peer.upload_queue.empty() && peer.reads_in_flight.size() < kMaxReadsInFlight &&
           peer.send_queue_bytes() < PeerConnection::kLowWatermark && !peer.closed()) {
        BlockRef block = peer.upload_queue.front();
        peer.upload_queue.pop_front();
        peer.reads_in_flight.push_back(block);
        disk_job_started();
        struct Read {
            std::vector<std::uint8_t> data;
            std::string error;
            std::vector<FileProblem> changed;  // never served: checked again first
        };
        auto storage = storage_;
        ctx_.disk.submit(
            ctx_.io,
            [storage, block] {
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
            guarded([this, block, weak = weak_peer](Read r) {
                disk_job_finished();
                if (!r.changed.empty()) return recheck_files(r.changed);
                if (!r.error.empty())
                    return set_error(TorrentErrorCode::read_failed,
                                     "cannot read data to upload: " + r.error);
                auto peer = weak.lock();
                if (!peer || peer->closed()) return;
                on_block_read(*peer, block, r.data);
            }));
    }
}

void Torrent::on_block_read(PeerConnection& peer, const BlockRef& block,
                            std::vector<std::uint8_t>& data) {
    auto it = std::find(peer.reads_in_flight.begin(), peer.reads_in_flight.end(), block);
    if (it == peer.reads_in_flight.end()) return;  // cancelled or choked meanwhile
    peer.reads_in_flight.erase(it);
    std::string out;
    out.reserve(13 + data.size());
    wire::append_piece_header(out, block.piece, block.offset,
                              static_cast<std::uint32_t>(data.size()));
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
    peer.send(out);
    peer.upload.add(block.length);
    upload_.add(block.length);
    peer.last_upload = last_upload_ = Clock::now();
    serve_uploads(peer);
}

void Torrent::set_choke(PeerConnection& peer, bool choke) {
    if (peer.am_choking == choke) return;
    peer.am_choking = choke;
    std::string out;
    wire::append_simple(out, choke ? wire::MsgType::choke : wire::MsgType::unchoke);
    if (choke) {
        // Queued requests die with the choke; with the Fast extension each gets a reject,
        // except those for allowed-fast pieces, which we still serve.
        auto allowed = [&](const BlockRef& b) {
            return peer.fast_extension() &&
                   std::find(peer.allowed_fast_out.begin(), peer.allowed_fast_out.end(),
                             std::uint32_t(b.piece)) != peer.allowed_fast_out.end();
        };
        auto reject_into = [&](const BlockRef& b) {
            if (peer.fast_extension())
                wire::append_request(out, wire::MsgType::reject_request, b.piece, b.offset,
                                     b.length);
        };
        std::deque<BlockRef> keep_queued;
        for (const auto& b : peer.upload_queue)
            if (allowed(b))
                keep_queued.push_back(b);
            else
                reject_into(b);
        peer.upload_queue = std::move(keep_queued);
        std::vector<BlockRef> keep_reading;  // reads dropped here are ignored when they finish
        for (const auto& b : peer.reads_in_flight)
            if (allowed(b))
                keep_reading.push_back(b);
            else
                reject_into(b);
        peer.reads_in_flight = std::move(keep_reading);
        peer.optimistic = false;
    } else {
        peer.last_unchoked = Clock::now();
    }
    peer.send(out);
}

void Torrent::rechoke(bool rotate_optimistic) {
    // Regular slots go to the interested peers that give us most (while downloading) or take
    // most (while seeding); snubbing peers get none. One extra optimistic slot rotates.
    bool seeding = finished();
    std::vector<PeerConnection*> candidates;
    PeerConnection* optimistic = nullptr;
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        if (peer->optimistic && !rotate_optimistic && peer->peer_interested)
            optimistic = ptr;
        else
            peer->optimistic = false;
        if (peer->peer_interested && !peer->snubbed) candidates.push_back(ptr);
    }
    std::sort(candidates.begin(), candidates.end(), [&](PeerConnection* a, PeerConnection* b) {
        auto ra = seeding ? a->upload.rate() : a->download.rate();
        auto rb = seeding ? b->upload.rate() : b->download.rate();
        if (ra != rb) return ra > rb;
        return a->last_unchoked < b->last_unchoked;  // equal: the longest waiting first
    });
    std::set<PeerConnection*> unchoke;
    for (auto* p : candidates) {
        if (static_cast<int>(unchoke.size()) >= ctx_.settings.upload_slots) break;
        if (p != optimistic) unchoke.insert(p);
    }
    if (!optimistic) {
        // New peers get three times the chance: they have nothing to offer yet.
        std::vector<PeerConnection*> pool;
        for (auto& [ptr, peer] : peers_) {
            if (!peer->connected() || !peer->peer_interested || unchoke.count(ptr)) continue;
            int weight = Clock::now() - peer->connected_at < 60s ? 3 : 1;
            for (int i = 0; i < weight; ++i) pool.push_back(ptr);
        }
        if (!pool.empty()) {
            static thread_local std::mt19937 rng{std::random_device{}()};
            optimistic = pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
            optimistic->optimistic = true;
        }
    }
    if (optimistic) unchoke.insert(optimistic);
    for (auto& [ptr, peer] : peers_)
        if (peer->connected()) set_choke(*peer, unchoke.count(ptr) == 0);
}

void Torrent::check_seed_limits() {
    if (!finished() || paused_ || !active()) return;
    auto st = status();
    double ratio_limit = limits_.ratio_limit.value_or(ctx_.settings.ratio_limit);
    std::string reason;
    if (ratio_limit > 0 && st.ratio >= ratio_limit) reason = "ratio limit reached";
    auto idle = ctx_.settings.seed_idle_limit;
    auto since = std::max(last_upload_, seeding_since_);
    if (idle > 0 && Clock::now() - since > std::chrono::seconds(idle))
        reason = "seeding idle limit reached";
    if (reason.empty()) return;
    spdlog::info("{}: stopped seeding: {}", meta_.name, reason);
    pause();
}

void Torrent::on_block(PeerConnection& peer, const wire::Message& msg) {
    auto key = reinterpret_cast<PeerKey>(&peer);
    BlockRef block{static_cast<int>(msg.piece), static_cast<int>(msg.offset),
                   static_cast<int>(msg.length)};
    peer.download.add(msg.length);
    download_.add(msg.length);
    auto it = std::find_if(peer.requests.begin(), peer.requests.end(),
                           [&](auto& r) { return r.block == block; });
    if (it != peer.requests.end()) {
        peer.requests.erase(it);
        peer.last_block = Clock::now();
        peer.snubbed = false;
    } else if (!buffers_.count(block.piece)) {
        wasted_bytes_ += msg.length;  // never requested, or for a piece no longer in progress
        return;
    }
    std::vector<PeerKey> others;
    if (picker_.block_received(block, key, others)) {
        auto& buf = buffers_[block.piece];
        std::copy(msg.payload.begin(), msg.payload.end(),
                  reinterpret_cast<char*>(buf.data.get()) + block.offset);
        if (std::find(buf.contributors.begin(), buf.contributors.end(), peer.offender) ==
            buf.contributors.end())
            buf.contributors.push_back(peer.offender);
        for (PeerKey other_key : others) {
            auto* other = find_peer(other_key);
            if (!other) continue;
            auto r = std::find_if(other->requests.begin(), other->requests.end(),
                                  [&](auto& req) { return req.block == block; });
            if (r == other->requests.end()) continue;
            other->requests.erase(r);
            std::string out;
            wire::append_request(out, wire::MsgType::cancel, block.piece, block.offset,
                                 block.length);
            other->send(out);
        }
        if (picker_.piece_fully_received(block.piece)) hash_and_write(block.piece);
    } else {
        wasted_bytes_ += msg.length;
    }
    request_blocks(peer);
}

void Torrent::request_blocks(PeerConnection& peer) {
    if (!peer.am_interested || !peer.connected() || peer.closed()) return;
    if (peer.peer_choking && peer.allowed_fast_in.empty()) return;
    int want = peer.queue_target - static_cast<int>(peer.requests.size());
    // Batch requests so one message arrival doesn't trigger a tiny send.
    if (want < std::min(8, peer.queue_target / 4 + 1) && !peer.requests.empty()) return;
    if (want <= 0) return;
    std::int64_t budget = ctx_.settings.memory_budget - ctx_.memory_in_use;
    int max_new = static_cast<int>(std::max<std::int64_t>(0, budget / meta_.piece_length));
    if (buffers_.empty()) max_new = std::max(max_new, 1);  // always make progress
    const Bitfield* pickable = &peer.peer_has;
    Bitfield allowed;
    if (peer.peer_choking) {  // BEP 6: only allowed-fast pieces may be requested while choked
        allowed = Bitfield(meta_.num_pieces());
        for (auto piece : peer.allowed_fast_in)
            if (peer.peer_has.test(piece)) allowed.set(piece);
        pickable = &allowed;
    }
    auto blocks = picker_.pick(*pickable, reinterpret_cast<PeerKey>(&peer), want, max_new);
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
        bool transient = false;            // out of space or descriptors: try again later
        std::vector<FileProblem> changed;  // files not the ones btd wrote before
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
            } catch (const FileChangedError& e) {
                r.changed = changed_files_after(*storage, e);
            } catch (const StorageError& e) {
                r.error = e.what();
                r.transient = is_transient_os_error(e.os_error());
            } catch (const std::exception& e) {
                r.error = e.what();
            }
            return r;
        },
        guarded([this, piece](Result r) {
            disk_job_finished();
            if (r.changed.empty()) return on_piece_written(piece, r.ok, r.error, r.transient);
            release_buffer(piece);
            picker_.piece_failed(piece);
            recheck_files(r.changed);
        }));
}

void Torrent::on_piece_written(int piece, bool hash_ok, const std::string& error, bool transient) {
    auto contributors = std::move(buffers_[piece].contributors);
    release_buffer(piece);
    if (!hash_ok) return on_piece_failed(piece, contributors);
    if (!error.empty()) {
        picker_.piece_failed(piece);
        return transient ? wait_out_disk_error(error)
                         : set_error(TorrentErrorCode::write_failed, error);
    }
    disk_retry_delay_ = {};  // writing works (again)
    picker_.we_have(piece);
    std::string have;
    wire::append_have(have, static_cast<std::uint32_t>(piece));
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        peer->send(have);
        if (peer->am_interested && peer->requests.empty()) update_interest(*peer);
    }
    emit(PieceVerifiedEvent{piece});
    if (finished()) emit(StateChangedEvent{.new_state = status().state});  // now seeding
    if (finished()) on_completed();
}

std::string Torrent::offender_key(const Endpoint& remote, const PeerId& peer_id) {
    if (!remote.address().is_loopback()) return remote.address().to_string();
    return remote.address().to_string() + "/" +
           to_hex(std::span<const std::uint8_t>(peer_id.data(), peer_id.size()));
}

void Torrent::on_piece_failed(int piece, const std::vector<std::string>& contributors) {
    picker_.piece_failed(piece);
    spdlog::warn("{}: piece {} failed its hash check; fetching it again", meta_.name, piece);
    emit(PieceFailedEvent{piece});
    for (const auto& key : contributors) {
        int& strikes = strikes_[key];
        strikes += contributors.size() == 1 ? 2 : 1;
        if (strikes < kBanStrikes || !banned_.insert(key).second) continue;
        std::vector<PeerConnection*> offenders;
        for (auto& [ptr, peer] : peers_)
            if (peer->connected() && peer->offender == key) offenders.push_back(ptr);
        for (auto* peer : offenders) {
            spdlog::warn("{}: banning {} for sending bad data", meta_.name,
                         endpoint_string(peer->remote()));
            if (!peer->incoming()) known_peers_[peer->remote()].banned = true;
            peer->close("banned: sent data that failed the hash check");
        }
        if (offenders.empty()) spdlog::warn("{}: banning {} for sending bad data", meta_.name, key);
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
    seeding_since_ = Clock::now();
    std::vector<PeerConnection*> seeds;
    for (auto& [ptr, peer] : peers_) {
        update_interest(*peer);
        if (peer->connected() && peer->peer_has.all()) seeds.push_back(ptr);
    }
    for (auto* p : seeds) p->close("both sides are seeds");
    if (!completed_announced_ && is_complete()) {  // not for a partial download
        completed_announced_ = true;
        if (announcer_) announcer_->completed();
        spdlog::info("{}: download complete", meta_.name);
    }
    emit(CompletedEvent{});
    emit(ResumeDataChangedEvent{});
}

void Torrent::save_resume_data(std::function<void(ResumeData)> done) {
    ResumeData rd;
    rd.have = picker_.have_bitfield().to_string();
    rd.paused = paused_;
    rd.total_downloaded = downloaded_base_ + download_.total();
    rd.total_uploaded = uploaded_base_ + upload_.total();
    rd.added_at = added_at_;
    rd.download_dir = download_dir_;
    rd.limits = limits_;
    if (std::any_of(file_priorities_.begin(), file_priorities_.end(),
                    [](auto p) { return p != kPriorityDefault; }))
        rd.file_priorities.assign(file_priorities_.begin(), file_priorities_.end());
    rd.sequential = picker_.sequential();
    auto storage = storage_;
    disk_job_started();
    ctx_.disk.submit(
        ctx_.io,
        [storage] {
            try {
                storage->flush();
            } catch (const std::exception& e) {
                spdlog::warn("flush before saving resume data: {}", e.what());
            }
            return storage->identities_for_resume();
        },
        [this, weak = std::weak_ptr<bool>(alive_), rd = std::move(rd),
         done = std::move(done)](std::vector<ResumeFileInfo> stats) mutable {
            for (auto& s : stats)
                rd.files.push_back({s.size, s.mtime, static_cast<std::int64_t>(s.inode),
                                    s.exists() ? s.mtime_ns : -1});
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

std::int64_t Torrent::file_have_bytes(const FileEntry& file) const {
    if (file.length == 0) return 0;
    const auto& have = picker_.have_bitfield();
    std::int64_t bytes = 0;
    auto [first, last] = piece_span(file.offset, file.offset + file.length);
    for (int p = first; p <= last; ++p) {
        if (!have.test(p)) continue;
        std::int64_t piece_begin = std::int64_t(p) * meta_.piece_length;
        std::int64_t begin = std::max(file.offset, piece_begin);
        std::int64_t end = std::min(file.offset + file.length, piece_begin + meta_.piece_size(p));
        bytes += end - begin;
    }
    return bytes;
}

TorrentStatus Torrent::status() const {
    TorrentStatus s;
    s.id = meta_.info_hash;
    s.name = meta_.name;
    s.total_size = meta_.total_size;
    s.sequential = picker_.sequential();
    if (skips_files_) {
        s.size = wanted_size_;
        for (std::size_t f = 0; f < meta_.files.size(); ++f)
            if (file_priorities_[f] != kPriorityDontDownload && !meta_.files[f].pad)
                s.have_bytes += file_have_bytes(meta_.files[f]);
    } else {
        s.size = meta_.total_size;
        s.have_bytes = have_bytes();
    }
    s.downloaded = downloaded_base_ + download_.total();
    s.uploaded = uploaded_base_ + upload_.total();
    s.download_rate = download_.rate();
    s.upload_rate = upload_.rate();
    s.download_dir = download_dir_;
    s.added_at = added_at_;
    s.error = error_.empty() ? disk_error_ : error_;  // a transient one shows, state unchanged
    for (auto& [ptr, peer] : peers_) {
        if (!peer->connected()) continue;
        ++s.peers;
        if (peer->has_all_pieces || peer->peer_has.all()) ++s.seeds;
    }
    // Paused wins over checking: the user asked for it (the check still completes meanwhile).
    if (!error_.empty())
        s.state = TorrentState::error;
    else if (paused_)
        s.state = TorrentState::paused;
    else if (checking_)
        s.state = TorrentState::checking;
    else if (finished())
        s.state = TorrentState::seeding;
    else
        s.state = TorrentState::downloading;
    if (checking_)
        s.progress = pieces_to_check_ ? double(checked_pieces_) / pieces_to_check_ : 0;
    else
        s.progress = s.size ? double(s.have_bytes) / double(s.size) : 1.0;
    if (s.state == TorrentState::downloading && s.download_rate > 0)
        s.eta = (s.size - s.have_bytes) / s.download_rate;
    // A torrent seeded from data it never downloaded counts its ratio against its size.
    std::int64_t ratio_base = s.downloaded > 0 ? s.downloaded : (s.have_bytes > 0 ? s.size : 0);
    s.ratio = ratio_base ? double(s.uploaded) / double(ratio_base) : 0;
    return s;
}

TorrentDetails Torrent::details() const {
    TorrentDetails d;
    d.status = status();
    d.pieces = picker_.have_bitfield().to_string();
    d.piece_length = meta_.piece_length;
    d.is_private = meta_.is_private;
    d.comment = meta_.comment;
    for (std::size_t f = 0; f < meta_.files.size(); ++f) {
        const auto& file = meta_.files[f];
        FileStatus fs;
        fs.path = file.path.generic_string();
        fs.size = file.length;
        fs.pad = file.pad;
        fs.priority = file_priorities_[f];
        fs.have_bytes = file_have_bytes(file);
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
            auto target = rate *
                          std::chrono::duration_cast<std::chrono::seconds>(kQueueTime).count() /
                          kBlockSize;
            peer->queue_target = static_cast<int>(std::clamp<std::int64_t>(
                target, kMinQueue, std::min(kMaxQueue, peer->peer_request_limit)));
        }
        if (now - peer->last_send > kKeepAliveInterval) {
            std::string ka;
            wire::append_keep_alive(ka);
            peer->send(ka);
        }
        request_blocks(*peer);
    }
    for (auto* ptr : to_close)
        ptr->close("no message for " + std::to_string(kInactivityTimeout.count()) + " s");
    ++tick_count_;
    if (tick_count_ % kRechokeEvery == 0) rechoke(tick_count_ % kOptimisticEvery == 0);
    if (tick_count_ % kFilesCheckEvery == 0) check_files_on_disk();
    check_seed_limits();
    connect_more();
}

}  // namespace btd
