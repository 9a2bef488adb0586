#pragma once
// Session's private state and the helpers its parts share. Session's member functions (session.cpp)
// and the parts that grow beside it (each in its own session_*.cpp) work on this one struct, on
// the network thread only.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/discovery/lsd.hpp"
#include "core/session/event_queue.hpp"
#include "core/session/listener.hpp"
#include "core/session/metadata_job.hpp"
#include "core/session/queue.hpp"
#include "core/session/session.hpp"
#include "core/session/session_context.hpp"
#include "core/session/session_dht.hpp"
#include "core/session/status_changes.hpp"
#include "core/session/torrent.hpp"
#include "core/util/sha1_map.hpp"

namespace btd {

SessionStats sum_up(const std::vector<TorrentStatus>& statuses, std::uint16_t listen_port);

// Creates the download directory if needed; throws SessionError{bad_download_dir} if it cannot
// be created or written. A file-system call: on the disk pool unless nothing waits.
void check_download_dir(const std::filesystem::path& dir);

struct Session::Impl {
    SessionContext ctx;
    EventQueue events;  // destroyed after the torrents (none of their teardown may push to it)
    // Per torrent, the state its last StateChangedEvent reported, and the status its last
    // StatsEvent carried.
    Sha1Map<TorrentState> reported_states;
    Sha1Map<TorrentStatus> reported_status;
    // The tick walks only `awake` torrents: those with work (not Torrent::idle()) and those an
    // event or call concerned since the last tick. The others are `asleep`: their status cannot
    // move, its last value (in reported_status) is summed in asleep_totals, and they cost
    // nothing per second. Every id in `torrents` is in exactly one of the two sets.
    Sha1Set awake;
    Sha1Set asleep;
    SessionStats asleep_totals;
    bool queue_stale = false;          // a job was removed: decide the queue at the next tick
    bool descriptors_stale = true;     // a torrent came or went: the file reserve is summed again
    long file_descriptor_reserve = 0;  // open files the torrents may hold
    Sha1Map<std::unique_ptr<Torrent>> torrents;
    // `torrents` in the same order as a vector, for status walks: reading it in sequence costs
    // next to nothing where a walk of the map's nodes misses the cache at each of 10,000 nodes.
    // Call walk_order(); anything that adds to or takes from `torrents` sets walk_stale.
    std::vector<std::pair<Sha1Hash, const Torrent*>> walk;
    bool walk_stale = true;
    const std::vector<std::pair<Sha1Hash, const Torrent*>>& walk_order();
    Sha1Map<std::vector<std::string>> labels;  // only torrents that have some
    // Magnet jobs still fetching their metadata (session_magnets.cpp). An id is in `torrents`
    // or here, never in both. What torrent.set changes meanwhile waits in the entry.
    struct MagnetEntry {
        std::unique_ptr<MetadataJob> job;
        Metainfo stub;  // what metainfo(id) shows: info-hash, name, trackers; no files
        std::vector<int> file_priorities;  // applied once the files are known
        bool sequential = false;
        TorrentLimits limits;
    };
    Sha1Map<MagnetEntry> magnets;
    std::map<MetadataJob*, std::unique_ptr<MetadataJob>> retiring_magnets;
    // Removed torrents still finishing disk work; destroyed when their stop() completes.
    std::map<Torrent*, std::unique_ptr<Torrent>> retiring;
    // Until a removed job's disk work is over (and its files deleted), the same torrent and
    // other torrents using the paths being deleted cannot be added: their check would hash
    // files that are about to vanish and count them as had.
    Sha1Map<int> removing;
    std::multiset<std::filesystem::path> deleting;  // top-level paths of the files

    StatusChangeTracker changes;  // for torrent.list {since}
    // Disk-pool completions of an add hold it weakly: they do nothing once the Session is gone.
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);

    boost::asio::steady_timer tick_timer;
    bool shutting_down = false;
    int awake_torrents = 0;  // ticked by the last tick (Torrent::idle() skips the others)
    int tick_visits = 0;     // torrents the last tick looked at (the awake set)
    Listener listener;
    SessionDht dht;  // last: its callbacks use the members above (session_dht.cpp)

    Impl(boost::asio::io_context& io, SessionSettings settings, const EngineClock& clock);

    // Peers for the job with this info-hash from a peer source (tracker, DHT, PEX, LSD, a
    // magnet's x.pe); ignored if no such job is running.
    void deliver_peers(const Sha1Hash& info_hash,
                       const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                       PeerSource source);

    void queue_event(SessionEvent e);

    // The jobs the DHT looks up and announces: running and not private (BEP 27). Jobs that
    // still fetch their metadata belong here too (session_dht.cpp).
    std::vector<Sha1Hash> active_info_hashes() const;
    bool dht_wanted(const Sha1Hash& id) const;  // one job, as active_info_hashes() decides
    // A job that starts running gets its DHT lookup at once (session_dht.cpp).
    void look_up_when_started(const StateChangedEvent& change, const Sha1Hash& id);
    SessionDht::Hooks dht_hooks();
    void configure_dht();  // after start and after every settings change

    void queue_stats();
    SessionStats totals() const;  // sums of every job's status; asleep ones cost nothing
    // A job (or call) concerned this torrent: the next tick looks at it again.
    void wake(const Sha1Hash& id);
    void forget(const Sha1Hash& id);  // removed: in neither set
    // Ticks the awake torrents, then puts those with nothing to do to sleep.
    void tick_torrents();
    void put_idle_to_sleep();

    TorrentStatus status_of(const Sha1Hash& id, const Torrent& t) const;
    void fill_status(const Sha1Hash& id, const Torrent& t, TorrentStatus& status) const;
    TorrentStatus status_of(const Sha1Hash& id, const MetadataJob& job) const;

    Torrent& get(const Sha1Hash& id);

    void route(std::unique_ptr<PeerStream> stream, const wire::Handshake& hs);

    // One of our own outgoing connections came back to us (a tracker handed out our external
    // address, or a NAT hairpin): answer with our handshake, so the dialling side sees our peer
    // id, closes as `connected_to_self` and never dials that endpoint again.
    void answer_ourselves(std::unique_ptr<PeerStream> stream, const wire::Handshake& hs);

    // Peer connections get what the open-file limit leaves after the reserve (see above), so
    // a flood of peers can never take the descriptors that files and the RPC need.
    void update_descriptor_cap();

    void schedule_tick();

    // done() runs once no disk job of the torrent is left and, with delete_data, its files are
    // gone; the torrent itself goes when the trackers were told `stopped` too.
    void retire(std::unique_ptr<Torrent> torrent, bool delete_data, std::function<void()> done);

    static std::vector<std::filesystem::path> top_level_paths(const Metainfo& meta,
                                                              const std::filesystem::path& dir);

    // Runs `work` on the disk pool, then `then(result)` on the network thread if the Session
    // still lives. `work` returns a value or an exception_ptr, never throws.
    template <class Work, class Then>
    void on_disk(Work work, Then then) {
        ctx.disk.submit(
            ctx.io, std::move(work),
            [alive = std::weak_ptr<bool>(alive), then = std::move(then)](auto result) mutable {
                if (alive.lock()) then(std::move(result));
            });
    }

    std::filesystem::path download_dir_for(const AddTorrentParams& params) const;
    std::optional<AddResult> refuse_or_duplicate(const Metainfo& meta,
                                                 const std::filesystem::path& dir) const;
    AddResult insert(Metainfo meta, const std::filesystem::path& dir, AddTorrentParams params);
    // The asynchronous add of .torrent files and magnets alike: `refuse` (a duplicate's
    // AddResult, nothing, or a thrown SessionError) runs now and again once the download
    // directory was checked on the disk pool; then `insert` creates the job. done() runs
    // exactly once, on the network thread, never inline.
    void add_async(const std::filesystem::path& dir,
                   std::function<std::optional<AddResult>()> refuse,
                   std::function<AddResult()> insert, AddDone done);

    // Throws SessionError{being_removed} while the torrent or its paths are being removed.
    void check_not_being_removed(const Metainfo& meta, const std::filesystem::path& dir) const;

    // Local peer discovery (session_lsd.cpp): running while settings.lsd is on and multicast
    // works (a failure is logged, and tried again at the next settings change).
    std::unique_ptr<discovery::LsdService> lsd;
    void configure_lsd();
    discovery::LsdService::Listed lsd_listed() const;  // active non-private torrents
    // The download queue (session_queue.cpp).
    queue::Positions positions;
    Sha1Set forced;  // started with start_now: outside the limits until paused
    struct Payload {
        std::int64_t bytes = 0;  // downloaded while downloading, uploaded while seeding
        bool seeding = false;
        std::chrono::steady_clock::time_point since{};  // last payload, or start of running
    };
    Sha1Map<Payload> payload;  // for the stalled rule
    // Queues or releases torrents as the limits say; `starting` counts as wanting to run (it is
    // being added or resumed), so it starts queued if no slot is free.
    void update_queue(const Sha1Hash* starting = nullptr);
    void watch_payload();  // each tick, before update_queue
    bool stalled(const Sha1Hash& id) const;
    void enqueue(const Sha1Hash& id, std::int64_t saved_position, bool paused);  // -1: last
    void dequeue(const Sha1Hash& id);
    queue::Entry magnet_entry(const Sha1Hash& id, const Sha1Hash* starting) const;
    void queue_magnet(MagnetEntry& entry, bool queued);
    // ---- magnet jobs (session_magnets.cpp) ----
    MagnetEntry* magnet(const Sha1Hash& id);  // nullptr if no magnet job has this id
    const MagnetEntry* magnet(const Sha1Hash& id) const;
    std::optional<AddResult> refuse_or_duplicate_magnet(const MagnetLink& link) const;
    AddResult insert_magnet(MagnetLink link, const std::filesystem::path& dir,
                            AddTorrentParams params);
    // The verified info dictionary arrived: the job becomes a Torrent with the same id.
    void on_metadata(const Sha1Hash& id, std::string info_dict);
    void remove_magnet(const Sha1Hash& id);
    ResumeData magnet_resume_data(const Sha1Hash& id) const;
    // Destroys the job outside its own call stack.
    void retire_magnet(std::unique_ptr<MetadataJob> job);
};

}  // namespace btd
