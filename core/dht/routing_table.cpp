#include "core/dht/routing_table.hpp"

#include <algorithm>

#include "core/bencode/bencode.hpp"

namespace btd::dht {
namespace {

bool bit(const NodeId& id, std::size_t i) {
    return (id[i / 8] >> (7 - i % 8)) & 1;
}

void set_bit(NodeId& id, std::size_t i, bool value) {
    auto mask = static_cast<std::uint8_t>(0x80 >> (i % 8));
    if (value)
        id[i / 8] |= mask;
    else
        id[i / 8] &= static_cast<std::uint8_t>(~mask);
}

}  // namespace

RoutingTable::RoutingTable(const NodeId& own_id, RoutingTableOptions options)
    : own_id_(own_id), options_(options), buckets_(1) {}

void RoutingTable::add_own_endpoint(const Endpoint& endpoint) {
    if (std::find(own_endpoints_.begin(), own_endpoints_.end(), endpoint) == own_endpoints_.end())
        own_endpoints_.push_back(endpoint);
}

RoutingTable::Outcome RoutingTable::node_replied(const NodeInfo& node, TimePoint now) {
    return add(node, now, true);
}

RoutingTable::Outcome RoutingTable::node_queried(const NodeInfo& node, TimePoint now) {
    return add(node, now, false);
}

void RoutingTable::touch(Entry& e, TimePoint now, bool replied) {
    e.last_seen = now;
    if (replied) {
        e.last_reply = now;
        e.failures = 0;
    } else {
        e.last_query = now;
    }
}

RoutingTable::Outcome RoutingTable::add(const NodeInfo& node, TimePoint now, bool replied) {
    if (is_own(node)) return {};
    const Address& address = node.endpoint.address();
    if (options_.enforce_node_id && !bep42_exempt(address) && !bep42_id_matches(node.id, address))
        return {};
    Bucket& bucket = buckets_[bucket_index(node.id)];
    if (Entry* e = find_live(node.id)) {
        // Same id from another address: a spoof or a moved node; the entry we have wins.
        if (e->node.endpoint != node.endpoint) return {};
        touch(*e, now, replied);
        if (replied) bucket.last_changed = now;
        return {Added::updated, {}};
    }
    Entry entry;
    entry.node = node;
    auto& cache = bucket.replacements;
    auto cached = std::find_if(cache.begin(), cache.end(),
                               [&](const Entry& c) { return c.node.id == node.id; });
    if (cached != cache.end()) {
        if (cached->node.endpoint != node.endpoint) return {};
        entry = *cached;
        cache.erase(cached);
    }
    if (options_.one_node_per_address && address_taken(address)) return {};
    touch(entry, now, replied);
    return insert_new(std::move(entry), now);
}

RoutingTable::Outcome RoutingTable::insert_new(Entry entry, TimePoint now) {
    for (;;) {
        std::size_t index = bucket_index(entry.node.id);
        Bucket& bucket = buckets_[index];
        if (bucket.live.size() < options_.bucket_size) {
            bucket.live.push_back(std::move(entry));
            bucket.last_changed = now;
            return {Added::added, {}};
        }
        auto bad = std::find_if(bucket.live.begin(), bucket.live.end(),
                                [&](const Entry& e) { return state_of(e, now) == NodeState::bad; });
        if (bad != bucket.live.end()) {
            *bad = std::move(entry);
            bucket.last_changed = now;
            return {Added::added, {}};
        }
        if (index + 1 == buckets_.size() && buckets_.size() < static_cast<std::size_t>(kIdBits)) {
            split_last_bucket();
            continue;
        }
        bucket.replacements.push_back(std::move(entry));
        if (bucket.replacements.size() > options_.replacement_size)
            bucket.replacements.erase(bucket.replacements.begin());
        Outcome out{Added::replacement, {}};
        std::vector<const Entry*> stale;
        for (const Entry& e : bucket.live)
            if (state_of(e, now) == NodeState::questionable) stale.push_back(&e);
        std::sort(stale.begin(), stale.end(),
                  [](const Entry* a, const Entry* b) { return a->last_seen < b->last_seen; });
        for (const Entry* e : stale) out.to_ping.push_back(e->node);
        return out;
    }
}

void RoutingTable::split_last_bucket() {
    std::size_t depth = buckets_.size();  // the new bucket holds ids sharing >= depth bits
    buckets_.emplace_back();
    Bucket& old_bucket = buckets_[depth - 1];
    Bucket& new_bucket = buckets_[depth];
    new_bucket.last_changed = old_bucket.last_changed;
    auto moves = [&](const Entry& e) {
        return static_cast<std::size_t>(common_prefix_bits(own_id_, e.node.id)) >= depth;
    };
    for (auto list : {&Bucket::live, &Bucket::replacements}) {
        auto& from = old_bucket.*list;
        auto split = std::stable_partition(from.begin(), from.end(),
                                           [&](const Entry& e) { return !moves(e); });
        std::move(split, from.end(), std::back_inserter(new_bucket.*list));
        from.erase(split, from.end());
    }
    // The old bucket may have room now: fill it from its replacements, newest first.
    while (old_bucket.live.size() < options_.bucket_size && !old_bucket.replacements.empty()) {
        old_bucket.live.push_back(std::move(old_bucket.replacements.back()));
        old_bucket.replacements.pop_back();
    }
}

void RoutingTable::node_timed_out(const Endpoint& endpoint, TimePoint now) {
    for (Bucket& bucket : buckets_) {
        auto& cache = bucket.replacements;
        cache.erase(std::remove_if(cache.begin(), cache.end(),
                                   [&](const Entry& e) { return e.node.endpoint == endpoint; }),
                    cache.end());
        for (Entry& e : bucket.live) {
            if (e.node.endpoint != endpoint) continue;
            ++e.failures;
            if (state_of(e, now) == NodeState::bad) promote_replacement(bucket, now);
            return;
        }
    }
}

void RoutingTable::promote_replacement(Bucket& bucket, TimePoint now) {
    if (bucket.replacements.empty()) return;
    auto bad = std::find_if(bucket.live.begin(), bucket.live.end(),
                            [&](const Entry& e) { return state_of(e, now) == NodeState::bad; });
    if (bad == bucket.live.end()) return;
    *bad = std::move(bucket.replacements.back());
    bucket.replacements.pop_back();
    bucket.last_changed = now;
}

NodeState RoutingTable::state_of(const Entry& e, TimePoint now) const {
    if (e.failures >= options_.max_failures) return NodeState::bad;
    if (e.last_reply && now - *e.last_reply < options_.good_for) return NodeState::good;
    if (e.last_reply && e.last_query && now - *e.last_query < options_.good_for)
        return NodeState::good;
    return NodeState::questionable;
}

std::optional<NodeState> RoutingTable::state(const NodeId& id, TimePoint now) const {
    for (const Entry& e : buckets_[bucket_index(id)].live)
        if (e.node.id == id) return state_of(e, now);
    return std::nullopt;
}

bool RoutingTable::contains(const NodeId& id) const {
    const auto& live = buckets_[bucket_index(id)].live;
    return std::any_of(live.begin(), live.end(), [&](const Entry& e) { return e.node.id == id; });
}

RoutingTable::Entry* RoutingTable::find_live(const NodeId& id) {
    for (Entry& e : buckets_[bucket_index(id)].live)
        if (e.node.id == id) return &e;
    return nullptr;
}

bool RoutingTable::is_own(const NodeInfo& node) const {
    return node.id == own_id_ || std::find(own_endpoints_.begin(), own_endpoints_.end(),
                                           node.endpoint) != own_endpoints_.end();
}

bool RoutingTable::address_taken(const Address& address) const {
    for (const Bucket& b : buckets_)
        for (const Entry& e : b.live)
            if (e.node.endpoint.address() == address) return true;
    return false;
}

std::size_t RoutingTable::bucket_index(const NodeId& id) const {
    auto shared = static_cast<std::size_t>(common_prefix_bits(own_id_, id));
    return std::min(shared, buckets_.size() - 1);
}

std::vector<NodeInfo> RoutingTable::closest(const NodeId& target, std::size_t count) const {
    std::vector<NodeInfo> all;
    for (const Bucket& b : buckets_)
        for (const Entry& e : b.live)
            if (e.failures < options_.max_failures) all.push_back(e.node);
    auto by_distance = [&](const NodeInfo& a, const NodeInfo& b) {
        return closer_to(target, a.id, b.id);
    };
    std::size_t n = std::min(count, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                      by_distance);
    all.resize(n);
    return all;
}

std::vector<NodeInfo> RoutingTable::questionable(TimePoint now) const {
    std::vector<const Entry*> found;
    for (const Bucket& b : buckets_)
        for (const Entry& e : b.live)
            if (state_of(e, now) == NodeState::questionable) found.push_back(&e);
    std::sort(found.begin(), found.end(),
              [](const Entry* a, const Entry* b) { return a->last_seen < b->last_seen; });
    std::vector<NodeInfo> out;
    for (const Entry* e : found) out.push_back(e->node);
    return out;
}

std::vector<std::size_t> RoutingTable::stale_buckets(TimePoint now) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < buckets_.size(); ++i)
        if (now - buckets_[i].last_changed >= options_.refresh_after) out.push_back(i);
    return out;
}

NodeId RoutingTable::random_id_in_bucket(std::size_t index, const NodeId& random) const {
    NodeId id = random;
    for (std::size_t i = 0; i < index && i < static_cast<std::size_t>(kIdBits); ++i)
        set_bit(id, i, bit(own_id_, i));
    // Every bucket but the last holds ids that differ from ours exactly at bit `index`.
    if (index + 1 < buckets_.size()) set_bit(id, index, !bit(own_id_, index));
    return id;
}

std::size_t RoutingTable::size() const {
    std::size_t n = 0;
    for (const Bucket& b : buckets_) n += b.live.size();
    return n;
}

std::vector<NodeInfo> RoutingTable::nodes() const {
    std::vector<NodeInfo> out;
    for (const Bucket& b : buckets_)
        for (const Entry& e : b.live) out.push_back(e.node);
    return out;
}

std::string save_routing_table(const RoutingTable& table) {
    auto nodes = table.nodes();
    bencode::Dict d;
    d["id"] = bencode::make_string(std::string(as_chars(table.own_id())));
    d["nodes"] = bencode::make_string(compact_nodes(nodes, false));
    d["nodes6"] = bencode::make_string(compact_nodes(nodes, true));
    return bencode::encode(bencode::make_dict(std::move(d)));
}

std::optional<SavedRoutingTable> load_routing_table(std::string_view blob) {
    bencode::Value root;
    try {
        bencode::Limits limits;
        limits.max_depth = 2;
        limits.max_input = kMaxSavedNodes * 38 + 1024;
        limits.max_items = 16;
        root = bencode::decode(blob, limits);
    } catch (const bencode::DecodeError&) {
        return std::nullopt;
    }
    const bencode::Value* id = root.find("id");
    if (!id || !id->is_string() || id->as_string().size() != 20) return std::nullopt;
    SavedRoutingTable saved;
    saved.id = hash_from_bytes(id->as_string());
    for (bool ipv6 : {false, true}) {
        const bencode::Value* list = root.find(ipv6 ? "nodes6" : "nodes");
        if (!list) continue;
        if (!list->is_string()) return std::nullopt;
        auto nodes = parse_compact_nodes(list->as_string(), ipv6);
        if (!nodes) return std::nullopt;
        saved.nodes.insert(saved.nodes.end(), nodes->begin(), nodes->end());
    }
    if (saved.nodes.size() > kMaxSavedNodes) return std::nullopt;
    return saved;
}

}  // namespace btd::dht
