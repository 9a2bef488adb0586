#pragma once
// What every Torrent shares with its Session: the network thread, the disk pool, our identity,
// the tracker machinery, the memory budget, the event sink and the clock.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <random>
#include <set>

#include "core/peer/peer_connection.hpp"
#include "core/peer/peer_stream.hpp"
#include "core/session/types.hpp"
#include "core/storage/disk_pool.hpp"
#include "core/tracker/announcer.hpp"
#include "core/util/bind_target.hpp"
#include "core/util/engine_clock.hpp"
#include "core/util/hash.hpp"
#include "core/util/rate_limiter.hpp"

namespace btd {

struct SessionContext {
    boost::asio::io_context& io;
    // What every time-based decision and date reads: the real clock; unit tests pass a manual
    // one they advance (tests/support/manual_clock.hpp). Outlives the context.
    const EngineClock& clock;
    SessionSettings settings;
    PeerId peer_id;
    tracker::TrackerContext trackers;
    DiskPool disk;
    std::int64_t memory_in_use = 0;  // bytes of piece buffers held by all torrents
    std::uint16_t listen_port = 0;   // the port we announce
    int connections = 0;             // peer connections of all torrents (for the global limit)
    // Peer connections the open-file limit leaves room for, after the reserve for files, the RPC
    // and pending handshakes (Session keeps it current).
    int descriptor_cap = 1 << 30;
    // Endpoints that turned out to be ourselves (our own peer id answered): never dialled again,
    // by any torrent.
    std::set<boost::asio::ip::tcp::endpoint> self_endpoints;
    std::shared_ptr<RateLimiter> download_limit;  // session-wide token buckets
    std::shared_ptr<RateLimiter> upload_limit;
    // settings.bind_interface, parsed (throws std::invalid_argument for a bad one).
    BindTarget bind = parse_bind_target(settings.bind_interface);
    // Makes the byte stream of every outgoing peer connection: TCP; unit tests swap in
    // in-memory peers (tests/support/memory_peer_stream.hpp).
    PeerStreamFactory open_stream = tcp_stream_factory(io);
    // Queues an event; the Session delivers it after the current operation (session.hpp).
    std::function<void(SessionEvent)> emit = [](SessionEvent) {};
    // Torrents whose data move was cut short (a journal found at start-up): each recovers it
    // before its first check (Torrent::start).
    std::set<Sha1Hash> interrupted_moves;
    // Random draws of every torrent (the optimistic unchoke): one generator for all, not 5 KB
    // of std::mt19937 state per torrent.
    std::mt19937 rng{std::random_device{}()};

    int connection_limit() const { return std::min(settings.max_connections, descriptor_cap); }
    // Options of every peer connection a torrent or a magnet's job dials: from bind_interface
    // only, so no peer traffic leaves by another route.
    PeerConnection::Options dial_options() const {
        PeerConnection::Options options;
        options.bind = bind;
        options.clock = &clock;
        return options;
    }
    // Options of every connection a torrent or a magnet's job accepts (the listener bound it).
    PeerConnection::Options accept_options() const {
        PeerConnection::Options options;
        options.clock = &clock;
        return options;
    }

    SessionContext(boost::asio::io_context& io_context, SessionSettings s,
                   const EngineClock& engine_clock = system_clock())
        : io(io_context),
          clock(engine_clock),
          settings(std::move(s)),
          peer_id(make_peer_id()),
          trackers(io_context),
          disk(settings.disk_threads),
          download_limit(std::make_shared<RateLimiter>(io_context, engine_clock)),
          upload_limit(std::make_shared<RateLimiter>(io_context, engine_clock)) {
        download_limit->set_rate(settings.download_rate_limit);
        upload_limit->set_rate(settings.upload_rate_limit);
    }
};

}  // namespace btd
