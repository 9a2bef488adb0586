// DhtNode: answering other nodes' queries (BEP 5 ping, find_node, get_peers, announce_peer).
#include "core/dht/dht_node.hpp"

namespace btd::dht {

void DhtNode::on_query(const Message& m, const Endpoint& from) {
    const auto& q = std::get<Query>(m.body);
    auto now = Clock::now();
    // A read-only node (BEP 43) cannot be queried back: it never enters the table.
    if (!m.read_only && q.id != table_.own_id())
        note_table_outcome(table_.node_queried({q.id, from}, now));
    if (q.method == Method::announce_peer && !tokens_.valid(q.token, from.address(), now))
        return reply_error(m.transaction_id, from, error_code::kProtocol, "bad token");
    Message reply;
    reply.transaction_id = m.transaction_id;
    reply.body = answer(q, from, now);
    reply.requester = from;  // BEP 42: tells the asker its external address
    reply.version = options_.version;
    send(from, reply);
}

Response DhtNode::answer(const Query& q, const Endpoint& from, Clock::time_point now) {
    Response r;
    r.id = table_.own_id();
    switch (q.method) {
        case Method::ping:
            break;
        case Method::find_node:
            r.nodes = table_.closest(q.target, 8);
            break;
        case Method::get_peers:
            r.values = peer_store_.peers(q.target, from.address().is_v6(), now);
            if (r.values.empty()) r.nodes = table_.closest(q.target, 8);
            r.token = tokens_.token_for(from.address(), now);
            break;
        case Method::announce_peer: {
            std::uint16_t port = q.implied_port ? from.port() : q.port;
            if (port != 0) peer_store_.announce(q.target, Endpoint(from.address(), port), now);
            break;
        }
    }
    return r;
}

void DhtNode::reply_error(const std::string& tid, const Endpoint& to, int code, std::string text) {
    Message m;
    m.transaction_id = tid;
    m.body = Error{code, std::move(text)};
    m.version = options_.version;
    send(to, m);
}

}  // namespace btd::dht
