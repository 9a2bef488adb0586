// DhtNode: iterative lookups (find_node for bootstrap and refresh, get_peers for torrents) and
// the announces that follow a get_peers lookup.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "core/dht/dht_node.hpp"

namespace btd::dht {

std::vector<NodeInfo> DhtNode::family_only(const std::vector<NodeInfo>& nodes) const {
    std::vector<NodeInfo> out;
    for (const auto& n : nodes)
        if (n.endpoint.address().is_v6() == ipv6()) out.push_back(n);
    return out;
}

void DhtNode::bootstrap(const std::vector<Endpoint>& routers) {
    std::vector<NodeInfo> seeds = saved_nodes_;
    for (const auto& r : routers)
        if (r.address().is_v6() == ipv6()) seeds.push_back(NodeInfo{NodeId{}, r});
    if (seeds.empty()) return;
    start_lookup(table_.own_id(), Method::find_node, std::move(seeds));
}

bool DhtNode::lookup_running(const NodeId& info_hash) const {
    return std::any_of(lookups_.begin(), lookups_.end(), [&](const auto& entry) {
        return entry.second.method == Method::get_peers &&
               entry.second.lookup.target() == info_hash;
    });
}

bool DhtNode::get_peers(const NodeId& info_hash, std::optional<std::uint16_t> announce_port,
                        LookupDone done) {
    if (lookups_.size() >= options_.max_lookups || lookup_running(info_hash)) return false;
    // With a thin table the saved nodes still help: a lookup needs somewhere to start.
    auto extra = table_.size() < 8 ? saved_nodes_ : std::vector<NodeInfo>{};
    auto key = start_lookup(info_hash, Method::get_peers, std::move(extra));
    if (key == 0) return false;
    auto& active = lookups_.at(key);
    active.announce_port = announce_port;
    active.done = std::move(done);
    pump(key);
    return true;
}

// 0 if there is nobody to ask.
std::uint64_t DhtNode::start_lookup(const NodeId& target, Method method,
                                    std::vector<NodeInfo> extra_seeds) {
    auto seeds = table_.closest(target, 8);
    seeds.insert(seeds.end(), extra_seeds.begin(), extra_seeds.end());
    if (seeds.empty()) return 0;
    LookupOptions lo;
    lo.own_id = table_.own_id();
    lo.own_endpoints = {local_};
    if (external_) lo.own_endpoints.push_back(Endpoint(*external_, local_.port()));
    auto key = next_lookup_++;
    lookups_.emplace(key, ActiveLookup{Lookup(target, std::move(seeds), lo), method, {}, 0, {}});
    if (method == Method::find_node) pump(key);  // get_peers() pumps once it is set up
    return key;
}

void DhtNode::pump(std::uint64_t key) {
    auto it = lookups_.find(key);
    if (it == lookups_.end()) return;
    auto& active = it->second;
    for (const auto& node : active.lookup.next_queries()) {
        Query q = query(active.method);
        q.target = active.lookup.target();
        // A query that could not go (limits) counts as a timeout at once, so the lookup moves
        // on to other nodes instead of waiting for nothing.
        if (!send_query(node.endpoint, q, Purpose::lookup, key))
            active.lookup.on_timeout(node.endpoint);
    }
    if (active.lookup.done()) finish(key);
}

void DhtNode::lookup_replied(std::uint64_t key, const Endpoint& from, const Response& r) {
    auto it = lookups_.find(key);
    if (it == lookups_.end()) return;
    auto& active = it->second;
    if (!active.lookup.on_reply(from, r.id, family_only(r.nodes), r.token)) return;
    if (active.method == Method::get_peers && !r.values.empty()) {
        active.peers_found += r.values.size();
        on_peers_(active.lookup.target(), r.values);
    }
    if (lookups_.count(key)) pump(key);  // on_peers_ may not remove it, but stay safe
}

void DhtNode::lookup_failed(std::uint64_t key, const Endpoint& from) {
    auto it = lookups_.find(key);
    if (it == lookups_.end()) return;
    it->second.lookup.on_timeout(from);
    pump(key);
}

void DhtNode::finish(std::uint64_t key) {
    auto node = lookups_.extract(key);
    auto& active = node.mapped();
    if (active.announce_port) announce_to_results(active);
    spdlog::debug("dht: {} lookup done, {} queries, {} peers",
                  active.method == Method::get_peers ? "get_peers" : "find_node",
                  active.lookup.queries_sent(), active.peers_found);
    if (active.done) {
        // Never inline: the caller may be in the middle of a call into us.
        boost::asio::post(io_, [alive = std::weak_ptr<bool>(alive_), done = std::move(active.done),
                                found = active.peers_found] {
            if (alive.lock()) done(found);
        });
    }
}

void DhtNode::announce_to_results(const ActiveLookup& active) {
    for (const auto& result : active.lookup.results()) {
        if (result.token.empty()) continue;
        Query q = query(Method::announce_peer);
        q.target = active.lookup.target();
        q.token = result.token;
        q.port = *active.announce_port;
        q.implied_port = *active.announce_port == 0;
        if (q.implied_port) q.port = local_.port();
        send_query(result.node.endpoint, q, Purpose::announce);
    }
}

}  // namespace btd::dht
