#pragma once
// One torrent job: checks existing data, talks to trackers and peers, requests blocks, verifies
// and stores pieces. Lives on the network thread; disk and hashing go through the pool.
// Torrent coordinates its parts and emits every event; the parts decide, Torrent acts:
//   PeerList          peer_list.hpp          candidates, back-off, bans
//   choker            choker.hpp             whom to unchoke
//   request_scheduler request_scheduler.hpp  how many blocks to ask each peer for
//   UploadQueue       peer/upload_queue.hpp  how each request from a peer is answered
//   PieceWriter       piece_writer.hpp       piece buffers, hash-and-write jobs
//   piece_layout      piece_layout.hpp       file/piece byte arithmetic, piece priorities
//   torrent_status    torrent_status.hpp     state, progress, ratio, seeding limits
//   TorrentTuning     tuning.hpp             timeouts, queue depths, ban thresholds
// The implementation is spread by concern: torrent.cpp (lifecycle, checking, files),
// torrent_peers.cpp (connections, messages), torrent_pex.cpp (peer exchange, listen ports),
// torrent_transfer.cpp (requests, pieces, completion,
// uploads, choking), torrent_report.cpp (status, resume data, the once-a-second tick),
// torrent_info.cpp (a paused torrent's info dictionary left in its .torrent).
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "core/metainfo/metainfo.hpp"
#include "core/peer/peer_connection.hpp"
#include "core/pieces/picker.hpp"
#include "core/session/choker.hpp"
#include "core/session/disk_jobs.hpp"
#include "core/session/peer_list.hpp"
#include "core/session/pex_exchange.hpp"
#include "core/session/piece_writer.hpp"
#include "core/session/session_context.hpp"
#include "core/session/types.hpp"
#include "core/storage/storage.hpp"
#include "core/tracker/announcer.hpp"

namespace btd {

class Torrent : public PeerConnection::Handler {
  public:
    // Throws SessionError{invalid_argument} for file priorities that do not fit the torrent.
    Torrent(SessionContext& ctx, Metainfo meta, std::filesystem::path download_dir,
            std::optional<ResumeData> resume, bool paused, std::int64_t added_at,
            const std::vector<int>& file_priorities = {}, bool sequential = false);
    ~Torrent() override;

    void start();
    void pause();
    void resume();
    void verify();
    // Disconnects, tells trackers `stopped`, waits for disk jobs; done() runs afterwards.
    void stop(std::function<void()> done);
    // After stop() and when_disk_idle(): no job of this torrent may touch the files meanwhile.
    // done() runs once the files are gone (or could not be deleted: logged).
    void delete_files(std::function<void()> done);
    // Runs fn on the network thread once no disk job of this torrent is left (at once if none).
    void when_disk_idle(std::function<void()> fn);
    void tick();  // once per second
    // Nothing for tick() to do: not active, no connection, no check, both rates at zero. The
    // Session skips such torrents, so thousands of paused ones cost no CPU while idle.
    bool idle() const;
    // An incoming connection for this torrent; false if refused (paused, full, duplicate).
    // `stream` comes from the listener (TcpPeerStream), which already read `theirs` from it.
    bool accept_incoming(std::unique_ptr<PeerStream> stream, const wire::Handshake& theirs);
    bool accepting() const { return active() && !stopping_; }
    // Candidates from any peer source (trackers, DHT, PEX, LSD, a magnet's x.pe); dials some.
    void add_peers(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints, PeerSource source);
    // The download queue (torrent_move.cpp): a queued torrent keeps its state but runs no peers
    // or announces until set_queued(false). Session decides (queue.hpp).
    void set_queued(bool queued);
    bool queued() const { return queued_; }
    bool paused() const { return paused_; }  // by the user (its state: paused, or error)
    // Asks the trackers now, as soon as their minimum interval allows (tracker/announcer.hpp).
    void reannounce();
    // Moves the data to `dir` (move) or only looks there (then checks every piece again);
    // peers and trackers pause meanwhile. The file work runs on the disk pool (relocate.hpp).
    // done(error) runs on the network thread: "" once the torrent works from `dir`, else why
    // not (the data then stays where it was and the torrent stops with that error).
    void relocate(std::filesystem::path dir, bool move, std::function<void(std::string)> done);
    bool relocating() const { return relocating_; }
    // A move cut short by a crash (its journal found at start): finished or undone on the disk
    // pool, then start() goes on from wherever the data is.
    void recover_move_then_start();

    const Metainfo& metainfo() const { return meta_; }
    const std::filesystem::path& download_dir() const { return download_dir_; }
    TorrentStatus status() const;
    // The same into `s`, every member overwritten, its buffers reused (a walk over all torrents).
    void fill_status(TorrentStatus& s) const;
    bool holds_swarm_state() const { return picker_.holds_swarm_state(); }   // for tests
    bool holds_rate_limiters() const { return download_limit_ != nullptr; }  // for tests
    // torrent_info.cpp. The .torrent this job came from (AddTorrentParams::info_file): while
    // paused and without disk work, the torrent drops its info dictionary (Metainfo::raw_info,
    // the piece hashes) and reads it back on the disk pool before a check or activation.
    void set_info_file(std::filesystem::path file);
    bool info_in_memory() const;
    TorrentDetails details() const;
    // Flushes written data to disk first, so the resume data never claims unsaved pieces.
    void save_resume_data(std::function<void(ResumeData)> done);
    void set_limits(const TorrentLimits& limits);
    // One per file, 0 (skip) to 7; throws SessionError{invalid_argument} otherwise.
    void set_file_priorities(const std::vector<int>& priorities);
    void set_sequential(bool on) { picker_.set_sequential(on); }
    // For ~Session: stops a running check (without callbacks), so the disk pool can be joined
    // before the torrent goes.
    void cancel_disk_work();
    std::vector<int> file_priorities() const {
        return {file_priorities_.begin(), file_priorities_.end()};
    }
    int peer_count() const { return static_cast<int>(peers_.size()); }

    // PeerConnection::Handler
    void on_peer_connected(PeerConnection& peer) override;
    void on_peer_message(PeerConnection& peer, const wire::Message& msg) override;
    void on_peer_closed(PeerConnection& peer, const std::string& reason) override;
    void on_peer_writable(PeerConnection& peer) override;

  private:
    using Endpoint = boost::asio::ip::tcp::endpoint;
    using Clock = std::chrono::steady_clock;

    void begin_check(const std::vector<bool>& pieces_to_check);
    static bool resume_file_changed(const ResumeFile& saved, const FileIdentity& now);
    std::vector<bool> pieces_to_check_after_resume();
    // Files no longer the ones btd wrote or verified: their pieces are dropped and re-checked.
    void recheck_files(const std::vector<FileProblem>& problems);
    void start_pending_recheck();
    void check_files_on_disk();
    static std::vector<FileProblem> changed_files_after(
        Storage& storage,
        const FileChangedError& e);  // periodic, on the pool: deleted, replaced or modified files
    static PieceWriter::WriteResult write_verified_piece(Storage& storage, int piece,
                                                         std::span<const std::uint8_t> data);
    void on_check_done();
    void cancel_check();
    void activate();
    bool may_activate() const;  // not paused, queued, checking, moving, stopping or in error
    void finish_relocate(const std::filesystem::path& dir, bool move, const std::string& error);
    void deactivate(std::function<void()> trackers_stopped = {});
    bool active() const { return announcer_ != nullptr; }
    void set_error(TorrentErrorCode code, const std::string& message);
    // torrent_info.cpp: then() at once if the info dictionary is in memory, else once it was
    // read back (an unreadable or foreign file puts the torrent in error instead).
    void with_info(std::function<void()> then);
    void on_info_read(std::string raw_info, const std::string& error);
    void release_info_when_idle();
    void release_info();
    void add_connection(const std::shared_ptr<PeerConnection>& peer);
    void make_rate_limiters();  // if there are none yet, with this torrent's limits
    void forget_connection(PeerConnection& peer);
    bool make_room_for_incoming();
    void handle_request(PeerConnection& peer, const wire::Message& msg);
    void reject(PeerConnection& peer, const BlockRef& block);
    void serve_uploads(PeerConnection& peer);
    void on_block_read(PeerConnection& peer, const BlockRef& block,
                       std::vector<std::uint8_t>& data);
    void rechoke(bool rotate_optimistic);
    choker::Candidate choker_candidate(const PeerConnection& peer, bool seeding) const;
    void set_choke(PeerConnection& peer, bool choke);
    void check_seed_limits();
    void connect_more();
    bool dialable(const Endpoint& ep,
                  const std::map<boost::asio::ip::address, int>& per_address) const;
    void dial(const Endpoint& ep);
    bool refuse_incoming(const Endpoint& remote, const wire::Handshake& theirs);
    bool refuse_banned(PeerConnection& peer);  // an outgoing peer that turned out banned
    void send_opening(PeerConnection& peer);
    void on_extended(PeerConnection& peer, const wire::Message& msg);
    // torrent_pex.cpp: BEP 11 peer exchange (never for a private torrent) and where peers listen.
    bool pex_allowed() const { return !meta_.is_private; }
    void note_extension_handshake(PeerConnection& peer, const wire::ExtensionHandshake& ext);
    void on_pex(PeerConnection& peer, const wire::Message& msg);
    void send_pex(Clock::time_point now);
    std::vector<wire::PexPeer> pex_advertised() const;
    void forget_pex(PeerConnection& peer);
    void serve_metadata(PeerConnection& peer, std::string_view payload);  // BEP 9
    void on_have(PeerConnection& peer, const wire::Message& msg);
    void on_bitfield(PeerConnection& peer, const wire::Message& msg);
    void on_have_all_or_none(PeerConnection& peer, const wire::Message& msg);
    void on_allowed_fast(PeerConnection& peer, const wire::Message& msg);
    void on_cancel(PeerConnection& peer, const wire::Message& msg);
    void on_reject(PeerConnection& peer, const wire::Message& msg);
    void ban_for_bad_data(const std::string& offender);
    void cancel_duplicates(const BlockRef& block, const std::vector<PeerKey>& others);
    void open_buffers(const std::vector<BlockRef>& blocks);
    void tick_peer(PeerConnection& peer, Clock::time_point now);
    void note_activity(bool running);  // from tick(): activity_at_, started_at_
    std::int64_t desired_available() const;
    std::int64_t manual_announce_at() const;
    UploadQueue::Limits upload_limits() const;
    std::map<boost::asio::ip::address, int> connections_per_address() const;
    bool drop_useless_peer(bool incoming_only);
    void record_violation(PeerConnection& peer, const std::string& reason);
    void note_closed(PeerConnection& peer);
    void request_blocks(PeerConnection& peer);
    void update_interest(PeerConnection& peer);
    void drop_requests(PeerConnection& peer);
    void on_block(PeerConnection& peer, const wire::Message& msg);
    void hash_and_write(int piece);
    void on_piece_done(int piece, PieceWriter::Outcome out);
    void on_piece_written(int piece);
    void wait_out_disk_error(const std::string& message);
    void on_piece_failed(int piece, const std::vector<std::string>& contributors);
    void release_buffer(int piece) { writer_.release(piece); }
    void on_completed();
    void announce_completion();
    void reset_picker();  // a fresh picker with this torrent's priorities
    void apply_file_priorities();
    void move_parts_to_wanted_files();                       // on the disk pool
    bool finished() const { return picker_.is_finished(); }  // every wanted piece verified
    void disk_job_started() { ++disk_jobs_; }
    void disk_job_finished();
    bool is_complete() const { return picker_.is_complete(); }
    std::int64_t have_bytes() const;  // all verified pieces
    PeerConnection* find_peer(PeerKey key);
    void emit(EventPayload event);  // about this torrent, delivered after the operation
    template <class Fn>
    auto guarded(Fn fn) {  // wraps a callback so it is dropped if this torrent is gone
        return [weak = std::weak_ptr<bool>(alive_), fn = std::move(fn)](auto&&... args) mutable {
            if (weak.lock()) fn(std::forward<decltype(args)>(args)...);
        };
    }

    SessionContext& ctx_;
    // One copy of the metainfo, shared with storage_ (10,000 paused torrents hold it only once).
    // Only this torrent changes it (raw_info, torrent_info.cpp), and only with no disk job.
    std::shared_ptr<Metainfo> shared_meta_;
    const Metainfo& meta_;
    std::filesystem::path info_file_;
    bool info_loading_ = false;
    std::vector<std::function<void()>> info_waiters_;
    std::filesystem::path download_dir_;
    std::shared_ptr<Storage> storage_;
    PiecePicker picker_;
    std::unique_ptr<tracker::Announcer> announcer_;
    std::map<PeerConnection*, std::shared_ptr<PeerConnection>> peers_;
    std::uint64_t next_peer_key_ = 1;  // a fresh PeerKey per connection, never reused
    const TorrentTuning& tuning_;
    PeerList peer_list_;
    PexExchange pex_;
    PoolDiskJobs pool_jobs_;
    PieceWriter writer_;
    // Until start() has read it; a pointer, not an optional: 300 bytes less per loaded torrent.
    std::unique_ptr<ResumeData> resume_;
    TorrentLimits limits_;
    std::vector<std::uint8_t> file_priorities_;  // one per file
    std::int64_t wanted_size_ = 0;               // bytes of the files not skipped
    bool skips_files_ = false;                   // some file with data has priority 0
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::shared_ptr<std::atomic<bool>> check_cancel_;
    std::set<int> recheck_pending_;  // files whose pieces wait for a check
    bool files_check_running_ = false;
    bool queued_ = false;      // waiting for a queue slot (set_queued)
    bool relocating_ = false;  // relocate() is moving files or switching directories

    bool paused_ = false;
    bool checking_ = false;
    bool stopping_ = false;
    bool completed_announced_ = false;
    bool connecting_ = false;  // connect_more() is running
    int checked_pieces_ = 0;
    int pieces_to_check_ = 0;
    int half_open_ = 0;
    int disk_jobs_ = 0;
    std::vector<std::function<void()>> on_disk_idle_;
    std::string error_;
    std::string disk_error_;  // a transient disk error being waited out (see wait_out_disk_error)
    std::chrono::seconds disk_retry_delay_{0};
    std::int64_t added_at_ = 0;
    std::int64_t done_at_ = 0;          // unix seconds; see TorrentStatus::done_at
    bool pieces_arrived_ = false;       // since the last completion or check: CompletedEvent
    std::int64_t downloaded_base_ = 0;  // totals from earlier runs (resume data)
    std::int64_t uploaded_base_ = 0;
    std::int64_t seconds_downloading_ = 0;  // counted by tick(), from resume data on
    std::int64_t seconds_seeding_ = 0;
    std::int64_t activity_at_ = 0;    // see TorrentStatus::activity_at; from resume data on
    std::int64_t started_at_ = 0;     // see TorrentStatus::started_at
    std::int64_t corrupt_bytes_ = 0;  // see TorrentStatus::corrupt_bytes; from resume data on
    std::int64_t payload_seen_ = 0;   // bytes in + out at the last tick, to see payload move
    bool was_running_ = false;        // at the last tick, to see it start
    RateMeter download_;
    RateMeter upload_;
    std::int64_t wasted_bytes_ = 0;
    // Made for the first peer after activate(), dropped at deactivate(): a paused torrent has
    // none (two limiters are about 0.4 KiB of each of 10,000 paused torrents).
    std::shared_ptr<RateLimiter> download_limit_;
    std::shared_ptr<RateLimiter> upload_limit_;
    std::unique_ptr<boost::asio::steady_timer> disk_retry_timer_;  // made at the first disk error
    int tick_count_ = 0;
    std::chrono::steady_clock::time_point seeding_since_{};
    std::chrono::steady_clock::time_point last_upload_{};
};

}  // namespace btd
