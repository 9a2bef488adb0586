#pragma once
// Per-torrent tracker driver: walks the BEP 12 tiers, announces over HTTP(S) or UDP, re-announces
// at the tracker's interval and reports peers. Runs on the network thread; never throws into it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/util/hash.hpp"

namespace btd::tracker {

struct TransferTotals {
    std::int64_t uploaded = 0;
    std::int64_t downloaded = 0;
    std::int64_t left = 0;
};

struct TrackerStatus {
    std::string url;
    int tier = 0;
    std::string state;    // "idle", "announcing", "working", "error"
    std::string message;  // last failure reason, warning or transport error
    int seeders = -1;     // from the last announce/scrape, -1 if unknown
    int leechers = -1;
    int peers_received = 0;  // peers in the last successful response
    std::int64_t next_announce_in_s = -1;
};

class TrackerContext;  // shared by all torrents of a session (UDP connection ids, TLS)

// All methods must be called on the network thread. A tracker that fails is reported in status()
// and the next one is tried; nothing here is fatal. The Announcer may be destroyed at any time:
// in-flight callbacks then do nothing, except a `stopped` announce begun by stop(), which runs to
// its end (at most settings.stop_timeout) and still calls done(). The TrackerContext must outlive
// every Announcer and that stop.
class Announcer {
  public:
    using PeersHandler = std::function<void(std::vector<boost::asio::ip::tcp::endpoint>)>;
    using TotalsProvider = std::function<TransferTotals()>;
    // Read at every announce, so a port changed at run time reaches the trackers.
    using PortProvider = std::function<std::uint16_t()>;

    Announcer(TrackerContext& ctx, std::vector<std::vector<std::string>> tiers,
              const Sha1Hash& info_hash, const PeerId& peer_id, PortProvider listen_port,
              TotalsProvider totals, PeersHandler on_peers);
    ~Announcer();  // NOLINT(bugprone-exception-escape): detach() only cancels a timer and requests

    void start();      // announces `started`, then re-announces at the tracker's interval
    void completed();  // announces `completed`
    void stop(std::function<void()> done);  // `stopped`; done() runs within a few seconds
    void reannounce_now();  // e.g. when we need more peers (still respects "min interval")
    // When reannounce_now() would send: the trackers' min interval after the last answer.
    std::chrono::steady_clock::time_point manual_announce_at() const;
    void scrape();  // asks the preferred tracker for seeders/leechers (shown in status())
    std::vector<TrackerStatus> status() const;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;  // shared so in-flight callbacks can outlive the Announcer safely
};

// Owns what trackers share across torrents. Create one per session, on the network io_context.
class TrackerContext {
  public:
    explicit TrackerContext(boost::asio::io_context& io);
    ~TrackerContext();
    boost::asio::io_context& io();
    boost::asio::ssl::context& tls();
    struct State;
    State& state();

  private:
    std::unique_ptr<State> state_;
};

}  // namespace btd::tracker
