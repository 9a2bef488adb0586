#include "core/dht/dht_node.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/v6_only.hpp>

namespace btd::dht {

namespace {
constexpr std::chrono::milliseconds kTick{250};
// Questionable nodes pinged per refresh round: enough to keep a table fresh, never a burst.
constexpr std::size_t kPingsPerRefresh = 8;
constexpr std::chrono::minutes kVoteLifetime{30};
}  // namespace

DhtNode::DhtNode(boost::asio::io_context& io, const Endpoint& local,
                 std::optional<SavedRoutingTable> saved, PeersFound on_peers,
                 DhtNodeOptions options)
    : io_(io),
      socket_(io),
      options_(std::move(options)),
      on_peers_(std::move(on_peers)),
      table_(saved ? saved->id : random_node_id()),
      tokens_(Clock::now()),
      incoming_guard_(options_.incoming),
      outgoing_guard_(options_.outgoing),
      tick_timer_(io) {
    socket_.open(local.protocol());
    if (local.address().is_v6()) socket_.set_option(boost::asio::ip::v6_only(true));
    socket_.bind(local);
    local_ = socket_.local_endpoint();
    table_.add_own_endpoint(local_);
    if (saved) saved_nodes_ = family_only(saved->nodes);
    receive();
    schedule_tick();
}

DhtNode::~DhtNode() {
    *alive_ = false;
    boost::system::error_code ignored;
    socket_.close(ignored);
}

Endpoint DhtNode::local_endpoint() const {
    return local_;
}

DhtNodeStats DhtNode::stats() const {
    DhtNodeStats s = counters_;
    s.nodes = table_.size();
    s.lookups = lookups_.size();
    s.pending = pending_.size();
    return s;
}

void DhtNode::receive() {
    socket_.async_receive_from(
        boost::asio::buffer(buffer_), sender_,
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec,
                                                    std::size_t n) {
            if (!alive.lock() || ec == boost::asio::error::operation_aborted) return;
            if (!ec) on_packet(std::string_view(buffer_.data(), n), sender_);
            receive();  // a failed receive (ICMP unreachable reported late) is not fatal
        });
}

void DhtNode::on_packet(std::string_view packet, const Endpoint& from) {
    ++counters_.packets_in;
    auto now = Clock::now();
    if (from.port() == 0 || !incoming_guard_.allow(from.address(), now)) {
        ++counters_.packets_dropped;
        return;
    }
    auto decoded = decode_krpc(packet);
    if (auto* failure = std::get_if<DecodeFailure>(&decoded)) {
        ++counters_.packets_dropped;
        // Only a query deserves an error reply; a broken reply is just dropped. A failure with a
        // transaction id that is not ours was (or claims to be) a query.
        if (!failure->transaction_id.empty() && !pending_.count(failure->transaction_id))
            reply_error(failure->transaction_id, from, failure->code, failure->reason);
        return;
    }
    auto& message = std::get<Message>(decoded);
    if (std::holds_alternative<Query>(message.body)) return on_query(message, from);
    if (std::holds_alternative<Response>(message.body)) return on_response(message, from);
    on_error(message, from);
}

void DhtNode::send(const Endpoint& to, const Message& message) {
    auto bytes = std::make_shared<std::string>(encode_krpc(message));
    ++counters_.packets_out;
    socket_.async_send_to(boost::asio::buffer(*bytes), to,
                          [bytes](const boost::system::error_code&, std::size_t) {});
}

std::string DhtNode::next_transaction_id() {
    for (int attempt = 0; attempt < 65536; ++attempt) {
        ++next_tid_;
        std::string tid{static_cast<char>(next_tid_ >> 8), static_cast<char>(next_tid_ & 0xff)};
        if (!pending_.count(tid)) return tid;
    }
    return {};
}

// False if the query was not sent: too many pending, or too much sent to that address lately.
bool DhtNode::send_query(const Endpoint& to, Query query, Purpose purpose, std::uint64_t lookup) {
    auto now = Clock::now();
    if (pending_.size() >= options_.max_pending) return false;
    if (!outgoing_guard_.allow(to.address(), now)) return false;
    auto tid = next_transaction_id();
    if (tid.empty()) return false;
    query.id = table_.own_id();
    Message m;
    m.transaction_id = tid;
    m.body = std::move(query);
    m.version = options_.version;
    pending_[tid] = Pending{to, purpose, lookup, now + options_.query_timeout};
    send(to, m);
    return true;
}

void DhtNode::schedule_tick() {
    tick_timer_.expires_after(kTick);
    tick_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || !alive.lock()) return;
            tick();
            schedule_tick();
        });
}

void DhtNode::tick() {
    auto now = Clock::now();
    expire_transactions(now);
    if (now >= next_refresh_) {
        next_refresh_ = now + options_.refresh_interval;
        refresh(now);
        peer_store_.expire(now);
    }
}

void DhtNode::expire_transactions(Clock::time_point now) {
    std::vector<Pending> expired;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        expired.push_back(it->second);
        it = pending_.erase(it);
    }
    for (const auto& p : expired) {
        table_.node_timed_out(p.to, now);
        if (p.purpose == Purpose::lookup) lookup_failed(p.lookup, p.to);
    }
}

void DhtNode::on_response(const Message& m, const Endpoint& from) {
    auto it = pending_.find(m.transaction_id);
    // A reply we never asked for, or from somewhere else than we asked: dropped.
    if (it == pending_.end() || it->second.to != from) {
        ++counters_.packets_dropped;
        return;
    }
    Pending p = it->second;
    pending_.erase(it);
    const auto& r = std::get<Response>(m.body);
    auto now = Clock::now();
    note_table_outcome(table_.node_replied({r.id, from}, now));
    if (m.requester) vote_external(*m.requester, from);
    if (p.purpose == Purpose::lookup) lookup_replied(p.lookup, from, r);
}

void DhtNode::on_error(const Message& m, const Endpoint& from) {
    auto it = pending_.find(m.transaction_id);
    if (it == pending_.end() || it->second.to != from) return;
    Pending p = it->second;
    pending_.erase(it);
    if (p.purpose == Purpose::lookup) lookup_failed(p.lookup, from);
}

// A full bucket names its questionable nodes: a ping decides whether they stay.
void DhtNode::note_table_outcome(const RoutingTable::Outcome& outcome) {
    for (const auto& node : outcome.to_ping)
        send_query(node.endpoint, query(Method::ping), Purpose::ping);
}

void DhtNode::refresh(Clock::time_point now) {
    std::size_t pinged = 0;
    for (const auto& node : table_.questionable(now)) {
        if (pinged++ >= kPingsPerRefresh) break;
        send_query(node.endpoint, query(Method::ping), Purpose::ping);
    }
    if (table_.size() == 0) return;  // nothing to refresh from; bootstrap() does the rest
    for (auto index : table_.stale_buckets(now)) {
        if (lookups_.size() >= options_.max_lookups / 2) break;  // leave room for torrents
        start_lookup(table_.random_id_in_bucket(index, random_node_id()), Method::find_node, {});
    }
}

// BEP 42: the address other nodes see us at, by vote of distinct nodes. Once enough agree on a
// public address our id does not fit, we take an id that fits it.
void DhtNode::vote_external(const Endpoint& requester, const Endpoint& voter) {
    if (requester.address().is_v6() != ipv6() || bep42_exempt(requester.address())) return;
    auto now = Clock::now();
    if (votes_.size() > 16 && !votes_.count(requester.address())) return;  // bounded
    auto& voters = votes_[requester.address()];
    if (voters.size() < 64) voters[voter.address()] = now;
    std::erase_if(voters, [&](const auto& v) { return now - v.second > kVoteLifetime; });
    if (voters.size() >= options_.votes_for_external) adopt_external(requester.address());
}

void DhtNode::adopt_external(const Address& external) {
    if (external_ == external) return;
    external_ = external;
    table_.add_own_endpoint(Endpoint(external, local_.port()));
    if (bep42_id_matches(table_.own_id(), external)) return;
    auto nodes = table_.nodes();
    auto r = static_cast<std::uint8_t>(random_node_id()[0] & 7);
    table_ = RoutingTable(bep42_node_id(external, r, random_node_id()));
    table_.add_own_endpoint(local_);
    table_.add_own_endpoint(Endpoint(external, local_.port()));
    saved_nodes_ = nodes;  // asked again by the next bootstrap lookup
    spdlog::info("dht: external address {} (by vote): new node id per BEP 42",
                 external.to_string());
    start_lookup(table_.own_id(), Method::find_node, nodes);
}

}  // namespace btd::dht
