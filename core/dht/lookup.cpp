#include "core/dht/lookup.hpp"

#include <algorithm>

namespace btd::dht {

Lookup::Lookup(const NodeId& target, std::vector<NodeInfo> seeds, LookupOptions options)
    : target_(target), options_(std::move(options)) {
    for (const auto& seed : seeds) add_candidate(seed);
    resort();
    trim();
}

bool Lookup::is_own(const NodeInfo& node) const {
    return (options_.own_id && node.id == *options_.own_id) ||
           std::find(options_.own_endpoints.begin(), options_.own_endpoints.end(), node.endpoint) !=
               options_.own_endpoints.end();
}

void Lookup::add_candidate(const NodeInfo& node) {
    if (is_own(node) || node.endpoint.port() == 0) return;
    bool known = std::any_of(candidates_.begin(), candidates_.end(), [&](const Candidate& c) {
        return c.node.endpoint == node.endpoint || (c.node.id == node.id && node.id != NodeId{});
    });
    if (!known) candidates_.push_back(Candidate{node, Status::fresh, {}});
}

void Lookup::resort() {
    std::stable_sort(candidates_.begin(), candidates_.end(),
                     [&](const Candidate& a, const Candidate& b) {
                         return closer_to(target_, a.node.id, b.node.id);
                     });
}

// Only unqueried candidates are dropped: in-flight and replied ones are still needed.
void Lookup::trim() {
    std::size_t kept = 0;
    std::erase_if(candidates_, [&](const Candidate& c) {
        if (c.status != Status::fresh) return false;
        return ++kept > options_.max_candidates;
    });
}

Lookup::Candidate* Lookup::find(const Endpoint& endpoint, Status status) {
    for (Candidate& c : candidates_)
        if (c.node.endpoint == endpoint && c.status == status) return &c;
    return nullptr;
}

std::vector<NodeInfo> Lookup::next_queries() {
    std::vector<NodeInfo> out;
    std::size_t replied = 0;
    for (Candidate& c : candidates_) {
        if (replied >= options_.k || in_flight_ >= options_.alpha ||
            queries_sent_ >= options_.max_queries)
            break;
        if (c.status == Status::replied) ++replied;
        if (c.status != Status::fresh) continue;
        c.status = Status::in_flight;
        ++in_flight_;
        ++queries_sent_;
        out.push_back(c.node);
    }
    return out;
}

bool Lookup::on_reply(const Endpoint& from, const NodeId& responder_id,
                      const std::vector<NodeInfo>& nodes, std::string token) {
    Candidate* c = find(from, Status::in_flight);
    if (!c) return false;
    --in_flight_;
    if (is_own({responder_id, from})) {
        c->status = Status::failed;  // it was us all along: never a result
        return true;
    }
    c->status = Status::replied;
    c->node.id = responder_id;
    c->token = std::move(token);
    for (const auto& node : nodes) add_candidate(node);
    resort();
    trim();
    return true;
}

bool Lookup::on_timeout(const Endpoint& from) {
    Candidate* c = find(from, Status::in_flight);
    if (!c) return false;
    --in_flight_;
    c->status = Status::failed;
    return true;
}

bool Lookup::done() const {
    if (queries_sent_ >= options_.max_queries) return in_flight_ == 0;
    std::size_t replied = 0;
    for (const Candidate& c : candidates_) {
        if (c.status == Status::failed) continue;
        if (c.status != Status::replied) return false;  // a closer node is unasked or pending
        if (++replied >= options_.k) return true;
    }
    return in_flight_ == 0;  // ran out of candidates
}

std::vector<Lookup::Result> Lookup::results() const {
    std::vector<Result> out;
    for (const Candidate& c : candidates_) {
        if (out.size() >= options_.k) break;
        if (c.status == Status::replied) out.push_back({c.node, c.token});
    }
    return out;
}

}  // namespace btd::dht
