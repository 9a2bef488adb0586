#pragma once
// The Kademlia routing table (BEP 5): buckets of k nodes by shared id prefix with our own id, the
// bucket holding our id splitting when full, a replacement cache per bucket, node states from
// their timing. Pure: time is passed in as `now`, nothing is sent; the caller pings the nodes the
// table names and reports replies and timeouts. Network thread only.
//
// Cost: n buckets (at most 160), k nodes each. Lookups of one node are O(k) after an O(1) bucket
// choice; closest() is O(n k log(n k)).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dht/krpc.hpp"

namespace btd::dht {

enum class NodeState {
    good,          // replied to us within 15 min, or replied once and queried us within 15 min
    questionable,  // nothing heard for 15 min, or never replied to us: worth a ping
    bad,           // failed to reply max_failures times in a row: replaced when possible
};

struct RoutingTableOptions {
    std::size_t bucket_size = 8;       // k
    std::size_t replacement_size = 8;  // replacement cache per bucket
    int max_failures = 2;              // timeouts in a row before a node is bad
    std::chrono::seconds good_for{15 * 60};
    std::chrono::seconds refresh_after{15 * 60};  // a bucket unchanged this long wants a lookup
    bool one_node_per_address = true;             // a host may not fill a bucket with made-up ids
    // BEP 42: refuse nodes whose id does not fit their (public) address. Off by default, as in
    // libtorrent: many nodes still pick ids freely.
    bool enforce_node_id = false;
};

class RoutingTable {
  public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    enum class Added {
        added,        // now in a bucket
        updated,      // was there already; its times are refreshed
        replacement,  // bucket full: kept in the replacement cache (ping `to_ping`)
        rejected,     // ourselves, an address already taken, an id/address conflict, or an
                      // id that breaks BEP 42 when enforce_node_id is set
    };
    struct Outcome {
        Added result = Added::rejected;
        std::vector<NodeInfo> to_ping;  // questionable nodes of the full bucket, least recent first
    };

    explicit RoutingTable(const NodeId& own_id, RoutingTableOptions options = {});

    const NodeId& own_id() const { return own_id_; }
    // Our own addresses (listen socket, external address): never added.
    void add_own_endpoint(const Endpoint& endpoint);

    Outcome node_replied(const NodeInfo& node, TimePoint now);  // a reply to our query
    Outcome node_queried(const NodeInfo& node, TimePoint now);  // a query from the node
    // One of our queries to it timed out. A node that becomes bad is swapped for the newest
    // replacement, if the bucket has one.
    void node_timed_out(const Endpoint& endpoint, TimePoint now);

    std::optional<NodeState> state(const NodeId& id,
                                   TimePoint now) const;  // nullopt: not in a bucket
    bool contains(const NodeId& id) const;

    // Up to `count` nodes that are not bad, closest to target first.
    std::vector<NodeInfo> closest(const NodeId& target, std::size_t count) const;
    std::vector<NodeInfo> questionable(TimePoint now) const;  // ping these to keep the table fresh
    std::vector<std::size_t> stale_buckets(TimePoint now) const;
    // An id that falls into bucket `index` (to refresh it with a find_node); `random` fills the
    // bits our own id does not fix.
    NodeId random_id_in_bucket(std::size_t index, const NodeId& random) const;

    std::size_t size() const;  // nodes in buckets, replacements not counted
    std::size_t bucket_count() const { return buckets_.size(); }
    std::size_t bucket_size(std::size_t index) const { return buckets_.at(index).live.size(); }
    std::size_t replacement_count(std::size_t index) const {
        return buckets_.at(index).replacements.size();
    }
    std::vector<NodeInfo> nodes() const;  // every node in a bucket (for saving)

  private:
    struct Entry {
        NodeInfo node;
        std::optional<TimePoint> last_reply;
        std::optional<TimePoint> last_query;
        int failures = 0;
        TimePoint last_seen{};
    };
    struct Bucket {
        std::vector<Entry> live;
        std::vector<Entry> replacements;  // oldest first
        TimePoint last_changed{};
    };

    Outcome add(const NodeInfo& node, TimePoint now, bool replied);
    Outcome insert_new(Entry entry, TimePoint now);
    bool is_own(const NodeInfo& node) const;
    bool address_taken(const Address& address) const;
    std::size_t bucket_index(const NodeId& id) const;
    Entry* find_live(const NodeId& id);
    void split_last_bucket();
    void promote_replacement(Bucket& bucket, TimePoint now);
    NodeState state_of(const Entry& e, TimePoint now) const;
    static void touch(Entry& e, TimePoint now, bool replied);

    NodeId own_id_;
    RoutingTableOptions options_;
    std::vector<Endpoint> own_endpoints_;
    std::vector<Bucket> buckets_;
};

// The routing table as kept in the state dir: our id and the nodes, so a restart need not
// bootstrap from scratch. Bencoded {"id", "nodes" (26-byte entries), "nodes6" (38-byte)}.
struct SavedRoutingTable {
    NodeId id{};
    std::vector<NodeInfo> nodes;
};
inline constexpr std::size_t kMaxSavedNodes = 160 * 8 * 2;
std::string save_routing_table(const RoutingTable& table);
// nullopt if the blob is damaged or lists more than kMaxSavedNodes nodes. The caller pings the
// nodes and adds those that reply.
std::optional<SavedRoutingTable> load_routing_table(std::string_view blob);

}  // namespace btd::dht
