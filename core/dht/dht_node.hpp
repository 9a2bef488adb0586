#pragma once
// The DHT driver (BEP 5, one address family per node; BEP 32 runs a second node for IPv6): owns
// a UDP socket, sends what the pure parts (routing table, lookups) ask for, matches replies to
// queries by transaction id, times them out, answers other nodes' queries, and keeps the table
// fresh (bucket refresh, pings of questionable nodes, BEP 42 id from the voted external address).
// Network thread only; no locks. Callbacks run on the network thread, never inline in a public
// call, and never after the node is destroyed (every handler holds `alive_` weakly).
//
// Limits: RateGuard on incoming packets (a node over 50 packets in 10 s is ignored), a cap on
// what we send to one address, on pending transactions, on concurrent lookups and on answers;
// decode_krpc's KrpcLimits bound every field, so a hostile node cannot grow memory.
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dht/krpc.hpp"
#include "core/dht/lookup.hpp"
#include "core/dht/peer_store.hpp"
#include "core/dht/rate_guard.hpp"
#include "core/dht/routing_table.hpp"
#include "core/dht/token_store.hpp"

namespace btd::dht {

struct DhtNodeOptions {
    std::chrono::milliseconds query_timeout{3000};
    std::size_t max_pending = 512;  // transactions in flight, all nodes
    std::size_t max_lookups = 32;   // concurrent lookups; more are refused until one ends
    RateGuardOptions incoming;      // per source address
    RateGuardOptions outgoing{30, std::chrono::seconds(10), 10000};  // what we send to one address
    std::chrono::seconds refresh_interval{60};  // how often stale buckets and pings are checked
    std::size_t votes_for_external = 5;         // BEP 42: distinct voters that agree
    std::string version = "BD01";               // "v" in our messages
};

struct DhtNodeStats {
    std::size_t nodes = 0;    // in the routing table's buckets
    std::size_t lookups = 0;  // in flight
    std::size_t pending = 0;  // queries awaiting a reply
    std::uint64_t packets_in = 0, packets_dropped = 0, packets_out = 0;
};

class DhtNode {
  public:
    using Clock = std::chrono::steady_clock;
    // Peers a get_peers lookup found (the "values" of one reply); may be called many times per
    // lookup, with repeats.
    using PeersFound = std::function<void(const NodeId& info_hash, std::vector<Endpoint> peers)>;
    // A lookup ended: how many peers it found in all, and whether it announced.
    using LookupDone = std::function<void(std::size_t peers_found)>;

    // Binds a UDP socket to `local` (throws boost::system::system_error if it cannot). `saved`
    // (from load_routing_table) gives our id and nodes to ask first; else a random id.
    DhtNode(boost::asio::io_context& io, const Endpoint& local,
            std::optional<SavedRoutingTable> saved, PeersFound on_peers,
            DhtNodeOptions options = {});
    ~DhtNode();
    DhtNode(const DhtNode&) = delete;
    DhtNode& operator=(const DhtNode&) = delete;

    // Starts a find_node lookup for our own id, seeded with these endpoints (the resolved
    // bootstrap routers) and the saved nodes.
    void bootstrap(const std::vector<Endpoint>& routers);
    // get_peers lookup for `info_hash`; with `announce_port` set, announce_peer to the closest
    // nodes that replied (port 0 = implied_port: our UDP port, which is the peer listen port).
    // False (nothing started) when max_lookups lookups run or a lookup for it is running.
    bool get_peers(const NodeId& info_hash, std::optional<std::uint16_t> announce_port,
                   LookupDone done = {});
    bool lookup_running(const NodeId& info_hash) const;

    DhtNodeStats stats() const;
    const NodeId& id() const { return table_.own_id(); }
    Endpoint local_endpoint() const;
    std::string save() const { return save_routing_table(table_); }
    bool ipv6() const { return local_.address().is_v6(); }

  private:
    enum class Purpose { ping, lookup, announce };
    struct Pending {
        Endpoint to;
        Purpose purpose = Purpose::ping;
        std::uint64_t lookup = 0;  // lookup key for Purpose::lookup
        Clock::time_point deadline;
    };
    struct ActiveLookup {
        Lookup lookup;
        Method method = Method::find_node;
        std::optional<std::uint16_t> announce_port;
        std::size_t peers_found = 0;
        LookupDone done;
    };

    // dht_node.cpp: socket, transactions, timers
    void receive();
    void on_packet(std::string_view packet, const Endpoint& from);
    void send(const Endpoint& to, const Message& message);
    bool send_query(const Endpoint& to, Query query, Purpose purpose, std::uint64_t lookup = 0);
    std::string next_transaction_id();
    static Query query(Method method) {
        Query q;
        q.method = method;
        return q;
    }
    void schedule_tick();
    void tick();
    void expire_transactions(Clock::time_point now);
    void on_response(const Message& m, const Endpoint& from);
    void on_error(const Message& m, const Endpoint& from);
    void note_table_outcome(const RoutingTable::Outcome& outcome);
    void vote_external(const Endpoint& requester, const Endpoint& voter);
    void adopt_external(const Address& external);

    // dht_queries.cpp: answering
    void on_query(const Message& m, const Endpoint& from);
    Response answer(const Query& q, const Endpoint& from, Clock::time_point now);
    void reply_error(const std::string& tid, const Endpoint& to, int code, std::string text);

    // dht_lookups.cpp: iterative lookups, announces, refresh
    std::uint64_t start_lookup(const NodeId& target, Method method,
                               std::vector<NodeInfo> extra_seeds);
    void pump(std::uint64_t key);
    void finish(std::uint64_t key);
    void lookup_replied(std::uint64_t key, const Endpoint& from, const Response& r);
    void lookup_failed(std::uint64_t key, const Endpoint& from);
    void announce_to_results(const ActiveLookup& active);
    void refresh(Clock::time_point now);
    std::vector<NodeInfo> family_only(const std::vector<NodeInfo>& nodes) const;

    boost::asio::io_context& io_;
    boost::asio::ip::udp::socket socket_;
    Endpoint local_;
    DhtNodeOptions options_;
    PeersFound on_peers_;
    RoutingTable table_;
    TokenStore tokens_;
    PeerStore peer_store_;
    RateGuard incoming_guard_;
    RateGuard outgoing_guard_;
    std::vector<NodeInfo> saved_nodes_;
    std::map<std::string, Pending> pending_;  // by transaction id
    std::map<std::uint64_t, ActiveLookup> lookups_;
    std::uint64_t next_lookup_ = 1;
    std::uint16_t next_tid_ = 0;
    std::map<Address, std::map<Address, Clock::time_point>> votes_;  // external -> voter -> when
    std::optional<Address> external_;
    Clock::time_point next_refresh_{};
    boost::asio::steady_timer tick_timer_;
    std::array<char, 4096 + 1> buffer_{};  // one more than KrpcLimits::max_packet: too long shows
    Endpoint sender_;
    DhtNodeStats counters_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd::dht
