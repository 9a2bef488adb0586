#pragma once
// A magnet link's job until its metadata is known (state `metadata`): finds peers (the link's
// x.pe, its trackers, and whatever Session::Impl::deliver_peers brings from the DHT, PEX or
// LSD), connects with the extension bit, asks every peer that offers ut_metadata (BEP 9) for
// 16 KiB pieces and checks the assembled info dictionary against the info-hash. A peer that
// sends bad, oversized or mismatched metadata is dropped and never dialled again. Once the
// dictionary verifies, `on_metadata` runs (once, on the network thread, from a posted handler)
// and the Session replaces the job by a Torrent with the same id.
// Network thread only. MetadataFetch (metadata_fetch.hpp) makes the decisions; this class does
// the I/O.
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/metainfo/magnet.hpp"
#include "core/peer/peer_connection.hpp"
#include "core/session/metadata_fetch.hpp"
#include "core/session/peer_list.hpp"
#include "core/session/session_context.hpp"
#include "core/session/types.hpp"
#include "core/tracker/announcer.hpp"

namespace btd {

class MetadataJob : public PeerConnection::Handler {
  public:
    using Endpoint = boost::asio::ip::tcp::endpoint;
    using MetadataHandler = std::function<void(std::string info_dict)>;

    MetadataJob(SessionContext& ctx, MagnetLink link, std::filesystem::path download_dir,
                bool paused, std::int64_t added_at, MetadataHandler on_metadata);
    ~MetadataJob() override;

    void start();  // dials the link's peers and announces to its trackers (unless paused)
    void pause();
    void resume();
    // Disconnects and tells the trackers `stopped`; done() runs afterwards (bounded time).
    void stop(std::function<void()> done);
    // The download queue (Session::Impl::update_queue): a queued job keeps its peers listed but
    // dials nobody, announces nowhere and fetches no metadata until set_queued(false).
    void set_queued(bool queued);
    bool queued() const { return queued_; }
    void tick();  // once per second: request time-outs, more dialling
    // The metadata arrived but cannot be used (e.g. unsafe paths): the job stops, in `error`.
    void fail(std::string message);
    void add_peers(const std::vector<Endpoint>& endpoints, PeerSource source);
    // An incoming connection for this info-hash; false if refused (paused, full, banned).
    // `stream` comes from the listener, which already read `theirs` from it.
    bool accept_incoming(std::unique_ptr<PeerStream> stream, const wire::Handshake& theirs);

    const MagnetLink& link() const { return link_; }
    std::string name() const;  // the link's dn, else the info-hash in hex
    bool paused() const { return paused_; }
    const std::filesystem::path& download_dir() const { return download_dir_; }
    std::int64_t added_at() const { return added_at_; }
    TorrentStatus status() const;
    TorrentDetails details() const;
    // Peers worth dialling for the Torrent that follows (and worth keeping in a stored link):
    // the link's x.pe, every candidate not banned, the peers being dialled or connected and,
    // for incoming peers, the listen port their extension handshake named.
    std::vector<std::pair<Endpoint, PeerSource>> known_peers() const;

    // PeerConnection::Handler
    void on_peer_connected(PeerConnection& peer) override;
    void on_peer_message(PeerConnection& peer, const wire::Message& msg) override;
    void on_peer_closed(PeerConnection& peer, const std::string& reason) override;

    static constexpr int kMaxPeers = 20;  // connections a job holds: metadata is small

  private:
    using Clock = std::chrono::steady_clock;
    struct Peer {
        std::shared_ptr<PeerConnection> conn;
        std::uint64_t key = 0;
        int ut_metadata = 0;  // the peer's id for ut_metadata messages; 0 = not offered
        Clock::time_point handshake_at{};  // BitTorrent handshake done; max() until then
    };

    void activate();
    void deactivate();
    bool active() const { return announcer_ != nullptr; }
    void connect_more();
    void dial(const Endpoint& ep);
    void add_connection(const std::shared_ptr<PeerConnection>& conn);
    void on_extension_handshake(PeerConnection& peer, std::string_view payload);
    void on_metadata_message(PeerConnection& peer, std::string_view payload);
    void request_pieces(PeerConnection& peer);
    void drop_bad_peer(std::uint64_t key, const std::string& reason);
    void drop_silent_peers(Clock::time_point now);
    void finish(std::string info_dict);
    Peer* find(std::uint64_t key);

    SessionContext& ctx_;
    MagnetLink link_;
    std::filesystem::path download_dir_;
    std::int64_t added_at_ = 0;
    MetadataHandler on_metadata_;
    PeerList peer_list_;
    MetadataFetch fetch_;
    std::unique_ptr<tracker::Announcer> announcer_;
    std::map<PeerConnection*, Peer> peers_;
    std::vector<Endpoint> incoming_listen_;  // incoming peers' own listen endpoints
    std::uint64_t next_key_ = 1;
    int half_open_ = 0;
    bool paused_ = false;
    bool queued_ = false;
    bool done_ = false;  // metadata verified: nothing more to fetch
    std::string error_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd
