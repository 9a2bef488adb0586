#pragma once
// An iterative Kademlia lookup (BEP 5 find_node / get_peers) as a pure state machine: it keeps
// the candidates ordered by distance to the target, says which nodes to query next (never more
// than alpha at once), and finishes when the k closest nodes it knows have all replied, or when
// nothing is left to ask. The caller sends the queries, and reports each reply or timeout.
// Network thread only.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/dht/krpc.hpp"

namespace btd::dht {

struct LookupOptions {
    std::size_t alpha = 3;             // queries in flight at once
    std::size_t k = 8;                 // how many closest nodes make the result
    std::size_t max_candidates = 100;  // farther unqueried candidates beyond this are dropped
    std::size_t max_queries = 200;     // a hard stop, whatever the replies say
    std::optional<NodeId> own_id;      // never queried, dropped when a reply names it
    std::vector<Endpoint> own_endpoints;
};

class Lookup {
  public:
    struct Result {
        NodeInfo node;
        std::string token;  // get_peers: the token to announce to this node with
    };

    // Seeds usually come from the routing table. A bootstrap router whose id is unknown may be
    // passed with a zero id; its reply supplies the real one.
    Lookup(const NodeId& target, std::vector<NodeInfo> seeds, LookupOptions options = {});

    const NodeId& target() const { return target_; }

    // The nodes to query now, marked in flight. Empty when alpha queries are outstanding, or
    // when the lookup is done.
    std::vector<NodeInfo> next_queries();

    // A reply from a node we queried; returns false (and changes nothing) for a node not in
    // flight, e.g. a late or unsolicited reply.
    bool on_reply(const Endpoint& from, const NodeId& responder_id,
                  const std::vector<NodeInfo>& nodes, std::string token = {});
    bool on_timeout(const Endpoint& from);

    bool done() const;
    std::size_t in_flight() const { return in_flight_; }
    std::size_t queries_sent() const { return queries_sent_; }
    std::size_t candidate_count() const { return candidates_.size(); }
    // The closest nodes that replied (at most k), closest first.
    std::vector<Result> results() const;

  private:
    enum class Status { fresh, in_flight, replied, failed };
    struct Candidate {
        NodeInfo node;
        Status status = Status::fresh;
        std::string token;
    };

    void add_candidate(const NodeInfo& node);
    bool is_own(const NodeInfo& node) const;
    Candidate* find(const Endpoint& endpoint, Status status);
    void resort();
    void trim();

    NodeId target_;
    LookupOptions options_;
    std::vector<Candidate> candidates_;  // closest first
    std::size_t in_flight_ = 0;
    std::size_t queries_sent_ = 0;
};

}  // namespace btd::dht
