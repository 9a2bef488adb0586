#pragma once
// Plain data the session exchanges with its users (daemon, RPC handlers, foreground mode).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/session/tuning.hpp"
#include "core/tracker/announcer.hpp"
#include "core/util/hash.hpp"

namespace btd {

enum class TorrentState {
    checking,
    downloading_metadata,
    downloading,
    seeding,
    paused,
    queued,
    error
};
const char* to_string(TorrentState s);

// Where a peer candidate came from; the first source that named a peer is the one shown.
enum class PeerSource : std::uint8_t { tracker, dht, pex, lsd, incoming, magnet, resume };
const char* to_string(PeerSource s);

// Where queue moves take torrents (Transmission's queue-move-top/up/down/bottom).
enum class QueueMove { top, up, down, bottom };

struct SessionSettings {
    std::uint16_t listen_port = 6881;        // 0 = pick any free port
    std::string listen_address = "0.0.0.0";  // incoming connections (issue 4)
    std::filesystem::path default_download_dir = ".";
    unsigned disk_threads = 0;                // 0 = number of cores
    std::int64_t memory_budget = 64LL << 20;  // bytes for in-flight piece buffers, all torrents
    int max_peers_per_torrent = 60;
    int max_connections = 500;
    // Connections one torrent holds to one address (IPv6: one /64); loopback gets at least half
    // of max_peers_per_torrent (see peer_policy.hpp). Several clients behind one NAT still fit,
    // but one address can no longer take every slot.
    int max_peers_per_address = 4;
    std::int64_t download_rate_limit = 0;  // bytes/s, 0 = unlimited
    std::int64_t upload_rate_limit = 0;
    int upload_slots = 4;              // regular unchoke slots per torrent (plus 1 optimistic)
    double ratio_limit = 0;            // stop seeding at this ratio; 0 = seed forever
    std::int64_t seed_idle_limit = 0;  // stop seeding after this many s without upload; 0 = never
    TorrentTuning tuning;              // per-torrent peer and disk tuning (tuning.hpp)
    // Local peer discovery (BEP 14): multicast announces of active non-private torrents on the
    // LAN. Off unless asked for: an engine in a test or a one-shot download sends nothing to the
    // LAN (the daemon's default turns it on).
    bool lsd = false;
    // The download queue (queue.hpp): torrents downloading, and seeding, at once; -1 =
    // unlimited. A download without payload received, or a seed without payload sent, for
    // queue_stalled_after s holds no slot (0 = never).
    int max_active_downloads = 5;
    int max_active_seeds = -1;
    std::int64_t queue_stalled_after = 30 * 60;
    // Peer traffic (connections out, the listen socket) only from this IP address or network
    // interface (SO_BINDTODEVICE), e.g. a VPN's; "" = any. Checked by parse_bind_target.
    std::string bind_interface;
    // The DHT (BEP 5) on UDP listen_port. Off unless asked for: an engine embedded in a test or
    // a one-shot download contacts no public router (the daemon's default turns it on).
    bool dht = false;
    std::vector<std::string> dht_bootstrap_nodes;  // "host:port", names resolved asynchronously
    std::filesystem::path dht_table_file;          // routing table kept here; empty = not kept
    // Journals of data moves (storage/move_journal.hpp), so a move cut short by a crash is
    // finished or undone at the next start instead of losing pieces; empty = none kept.
    std::filesystem::path move_journal_dir;
};

struct TorrentLimits {
    std::optional<std::int64_t> download_rate_limit;  // bytes/s, 0 = unlimited
    std::optional<std::int64_t> upload_rate_limit;
    std::optional<double> ratio_limit;            // 0 = none
    std::optional<std::int64_t> seed_idle_limit;  // s without upload while seeding; 0 = none
    // Given to Session::set_torrent_limits, a negative ratio_limit or seed_idle_limit drops the
    // torrent's own limit: the session's applies again (Transmission's seed*Mode 0).
};

// What is needed to restore a job without re-hashing unchanged files.
struct ResumeFile {
    std::int64_t size = -1;      // -1: file absent
    std::int64_t mtime = 0;      // seconds since epoch
    std::int64_t inode = 0;      // 0: unknown (resume data from an older btd)
    std::int64_t mtime_ns = -1;  // nanoseconds within mtime; -1: unknown (older resume data)
};
struct ResumeData {
    std::string have;               // '0'/'1' per piece (verified and written)
    std::vector<ResumeFile> files;  // one per metainfo file, in order
    bool paused = false;
    std::int64_t total_uploaded = 0;
    std::int64_t total_downloaded = 0;
    std::int64_t added_at = 0;
    std::filesystem::path download_dir;
    TorrentLimits limits;              // what torrent.set changed, restored with the job
    std::int64_t done_at = 0;          // unix seconds it last completed; 0 = never
    std::vector<int> file_priorities;  // one per file (0..7); empty = all default
    bool sequential = false;
    std::vector<std::string> labels;       // as Transmission 4's: free-form names, e.g. "tv"
    std::int64_t queue_position = -1;      // -1: none saved (the job goes last)
    std::int64_t seconds_downloading = 0;  // time spent running while not finished, all runs
    std::int64_t seconds_seeding = 0;      // time spent running while finished, all runs
    std::int64_t activity_at = 0;          // unix seconds payload last moved; 0 = never
    std::int64_t corrupt_bytes = 0;        // bytes of pieces that failed the hash check, all runs
};

struct AddTorrentParams {
    std::optional<std::filesystem::path> download_dir;  // default: settings' dir
    bool paused = false;
    std::optional<ResumeData> resume;  // wins over the two below
    std::vector<int> file_priorities;  // one per file, 0 = skip; empty = all default
    bool sequential = false;
    std::vector<std::string> labels;  // checked by checked_labels() (labels.hpp)
    // Where this job's .torrent is kept (the daemon's state dir): while paused, the torrent
    // leaves its info dictionary (the piece hashes) there and reads it back before it checks
    // or runs. Empty: kept in memory.
    std::filesystem::path info_file;
};

struct AddResult {
    Sha1Hash id{};
    std::string name;
    bool duplicate = false;
};

struct TorrentStatus {
    Sha1Hash id{};
    std::string name;
    TorrentState state = TorrentState::checking;
    double progress = 0;             // 0..1 of wanted bytes verified (checking: of bytes checked)
    std::int64_t size = 0;           // bytes wanted: the files not skipped (excludes pad files)
    std::int64_t total_size = 0;     // every file
    std::int64_t have_bytes = 0;     // verified bytes of the wanted files
    std::int64_t downloaded = 0;     // payload bytes received, all time
    std::int64_t uploaded = 0;       // payload bytes sent, all time
    std::int64_t download_rate = 0;  // bytes/s
    std::int64_t upload_rate = 0;
    int peers = 0;
    int seeds = 0;
    std::int64_t eta = -1;  // seconds, -1 unknown
    double ratio = 0;
    std::string error;
    std::filesystem::path download_dir;
    std::int64_t added_at = 0;
    bool sequential = false;
    std::vector<std::string> labels;
    std::int64_t done_at = 0;  // unix seconds every wanted piece was last in; 0 = not yet
    int queue_position = -1;   // 0 = first in the download queue
    bool stalled = false;  // no payload in (or out, seeding) for queue_stalled_after: no slot held
    std::int64_t seconds_downloading = 0;  // running (not queued or paused) while not finished
    std::int64_t seconds_seeding = 0;      // running while finished; both kept across restarts
    double metadata_progress = 1;    // 0..1 of a magnet's info dictionary fetched; 1 once known
    std::int64_t activity_at = 0;    // unix seconds payload last moved either way; 0 = never; kept
    std::int64_t started_at = 0;     // unix seconds it last began running; 0 = not this run
    std::int64_t corrupt_bytes = 0;  // downloaded and thrown away (hash failures); kept
    std::int64_t desired_available = 0;   // bytes of wanted pieces we lack that peers have
    std::int64_t manual_announce_at = 0;  // unix seconds a reannounce may go; 0 = no trackers
};

// What torrent.list {since} reports (Session::changes_since).
struct StatusChanges {
    std::vector<TorrentStatus> changed;  // added or changed after `since` (all if `complete`)
    std::vector<Sha1Hash> removed;       // removed after `since` (empty if `complete`)
    std::uint64_t sequence = 0;          // give it as `since` next time
    bool complete = false;  // `since` was too old or unknown: `changed` is every torrent
};

struct FileStatus {
    std::string path;
    std::int64_t size = 0;
    std::int64_t have_bytes = 0;
    int priority = 4;  // 0 = skipped
    bool pad = false;
};
struct PeerStatus {
    std::string address;  // "ip:port"
    std::string client;   // the peer's BEP 10 `v`, else read from its peer id
    double progress = 0;
    std::int64_t download_rate = 0;
    std::int64_t upload_rate = 0;
    std::string
        flags;  // PeerState::flags(): "D" downloading from, "U" uploading to, "c" choked us, ...
    bool incoming = false;
    PeerSource source = PeerSource::tracker;  // who named it: incoming for peers that dialled us
};
struct TorrentDetails {
    TorrentStatus status;
    std::vector<FileStatus> files;
    std::vector<tracker::TrackerStatus> trackers;
    std::vector<PeerStatus> peers;
    std::string pieces;  // '0'/'1' per piece
    std::int64_t piece_length = 0;
    bool is_private = false;
    std::string comment;
    TorrentLimits limits;  // what torrent.set changed; unset = the session's limit applies
};

struct SessionStats {
    std::int64_t download_rate = 0;
    std::int64_t upload_rate = 0;
    std::int64_t downloaded = 0;  // payload, all torrents, this session
    std::int64_t uploaded = 0;
    int torrents = 0;
    std::map<std::string, int> by_state;
    int peers = 0;
    std::uint16_t listen_port = 0;
    int awake_torrents = 0;  // ticked in the last second (the rest are idle: no work at all)
    int tick_visits = 0;     // torrents the last tick looked at: awake ones (asleep cost nothing)
    bool dht_enabled = false;
    int dht_nodes = 0;    // in the DHT routing tables (IPv4 + IPv6)
    int dht_lookups = 0;  // DHT lookups in flight
    // The disk pool: jobs submitted and not started, by what they do (read for a peer, hash
    // and write a downloaded piece, hash check, anything else), jobs running, and bytes hashed
    // since start by hash checks and for downloaded pieces.
    std::int64_t disk_waiting_read = 0;
    std::int64_t disk_waiting_write = 0;
    std::int64_t disk_waiting_check = 0;
    std::int64_t disk_waiting_other = 0;
    std::int64_t disk_running = 0;
    std::int64_t hashed_check_bytes = 0;
    std::int64_t hashed_download_bytes = 0;
};

// ---- Engine events (model: libtorrent's alerts) ------------------------------------------------
// One type per kind, each with typed fields; a SessionEvent carries one of them and the torrent
// it is about. How and when they are delivered: Session::add_event_listener.

// Why a torrent stopped with TorrentState::error (resume() clears it).
enum class TorrentErrorCode {
    write_failed,  // a verified piece, or bytes kept for a skipped file, could not be written
    read_failed,   // data a peer asked for could not be read
    check_failed   // the files could not be checked once every wanted piece was in
};
const char* to_string(TorrentErrorCode code);

struct AddedEvent {
    std::string name;  // the job is in Session::list() from now on
};
struct StateChangedEvent {
    // The state last reported for this torrent (a new job counts as `checking` until its first
    // report); filled in by the session. The same state may be reported twice in a row.
    TorrentState old_state = TorrentState::checking;
    // `checking` whenever a check starts (even while paused: the have-bits are incomplete until
    // it ends); otherwise what TorrentStatus::state says at that moment.
    TorrentState new_state = TorrentState::checking;
};
struct MetadataReceivedEvent {
    std::string name;  // a magnet's info dictionary arrived (not raised until magnets download)
};
struct PieceVerifiedEvent {
    int piece = 0;  // hashed right and written to disk
};
struct PieceFailedEvent {
    int piece = 0;  // failed its hash check; it is fetched again
};
// Every wanted piece verified and every wanted file in place. Also raised when a check (at
// start, after verify) finds the data complete: `downloaded` tells a finished download apart.
struct CompletedEvent {
    bool downloaded = false;  // pieces arrived from peers since the last check ended
};
struct ErrorEvent {
    TorrentErrorCode code = TorrentErrorCode::write_failed;
    std::string message;  // for the user: names the file and the OS error
};
struct RemovedEvent {
    std::string name;  // gone from Session::list(); its disk work may still be finishing
};
struct ResumeDataChangedEvent {};  // something resume data holds changed: worth saving soon
// Once a second while anyone listens (SessionEvent::id is all zero): the session totals and the
// status of each torrent whose state, progress, rates, peers or totals moved since the last one.
struct StatsEvent {
    SessionStats session;
    std::vector<TorrentStatus> torrents;
};

using EventPayload = std::variant<AddedEvent, StateChangedEvent, MetadataReceivedEvent,
                                  PieceVerifiedEvent, PieceFailedEvent, CompletedEvent, ErrorEvent,
                                  RemovedEvent, ResumeDataChangedEvent, StatsEvent>;

struct SessionEvent {
    Sha1Hash id{};  // the torrent; all zero for session-wide events (StatsEvent)
    EventPayload payload;

    // The payload if it is of kind T, else nullptr: `if (auto* s = e.get<StateChangedEvent>())`.
    template <class T>
    const T* get() const {
        return std::get_if<T>(&payload);
    }
};
// "added", "state_changed", "metadata_received", "piece_verified", "piece_failed", "completed",
// "error", "removed", "resume_data_changed", "stats".
const char* event_name(const SessionEvent& event);

class SessionError : public std::runtime_error {
  public:
    enum class Code {
        unknown_torrent,
        duplicate_torrent,
        bad_download_dir,
        bad_torrent,
        invalid_argument,
        shutting_down,
        being_removed  // the same torrent or its files are still being removed: try again
    };
    SessionError(Code code, const std::string& what) : std::runtime_error(what), code_(code) {}
    Code code() const { return code_; }

  private:
    Code code_;
};

}  // namespace btd
