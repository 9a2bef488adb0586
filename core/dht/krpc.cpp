#include "core/dht/krpc.hpp"

#include <algorithm>

#include "core/bencode/bencode.hpp"

namespace btd::dht {
namespace {

namespace asio = boost::asio;
using bencode::Value;

constexpr std::size_t kV4Node = 26;
constexpr std::size_t kV6Node = 38;

// Thrown inside this file only; decode_krpc turns it into a DecodeFailure.
struct Reject {
    int code;
    std::string reason;
};

[[noreturn]] void reject(std::string reason, int code = error_code::kProtocol) {
    throw Reject{code, std::move(reason)};
}

const Value& require(const Value& dict, std::string_view key, std::string_view where) {
    const Value* v = dict.find(key);
    if (!v) reject(std::string(where) + " has no '" + std::string(key) + "'");
    return *v;
}

NodeId require_id(const Value& dict, std::string_view key, std::string_view where) {
    const Value& v = require(dict, key, where);
    if (!v.is_string() || v.as_string().size() != 20)
        reject(std::string(where) + " '" + std::string(key) + "' is not a 20-byte string");
    return hash_from_bytes(v.as_string());
}

std::uint16_t read_port(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

Endpoint read_endpoint(const unsigned char* p, bool ipv6) {
    if (!ipv6)
        return {asio::ip::address_v4(asio::ip::address_v4::bytes_type{p[0], p[1], p[2], p[3]}),
                read_port(p + 4)};
    asio::ip::address_v6::bytes_type raw;
    std::copy(p, p + 16, raw.begin());
    return {asio::ip::address_v6(raw), read_port(p + 16)};
}

void read_want(Query& q, const Value& args) {
    const Value* want = args.find("want");
    if (!want || !want->is_list()) return;
    for (const Value& w : want->as_list()) {
        if (!w.is_string()) continue;
        if (w.as_string() == "n4") q.want_v4 = true;
        if (w.as_string() == "n6") q.want_v6 = true;
    }
}

void read_announce(Query& q, const Value& args, const KrpcLimits& limits) {
    q.target = require_id(args, "info_hash", "announce_peer");
    const Value* implied = args.find("implied_port");
    q.implied_port = implied && implied->is_int() && implied->as_int() != 0;
    const Value& port = require(args, "port", "announce_peer");
    if (!port.is_int() || port.as_int() < 0 || port.as_int() > 65535 ||
        (port.as_int() == 0 && !q.implied_port))
        reject("announce_peer 'port' is not a port number");
    q.port = static_cast<std::uint16_t>(port.as_int());
    const Value& token = require(args, "token", "announce_peer");
    if (!token.is_string() || token.as_string().size() > limits.max_token)
        reject("announce_peer 'token' is not a string of at most " +
               std::to_string(limits.max_token) + " bytes");
    q.token = token.as_string();
}

Query read_query(const Value& root, const KrpcLimits& limits) {
    const Value& name = require(root, "q", "query");
    if (!name.is_string()) reject("query 'q' is not a string");
    const Value& args = require(root, "a", "query");
    if (!args.is_dict()) reject("query 'a' is not a dictionary");
    Query q;
    q.id = require_id(args, "id", "query");
    const std::string& method = name.as_string();
    if (method == "ping") {
        q.method = Method::ping;
    } else if (method == "find_node") {
        q.method = Method::find_node;
        q.target = require_id(args, "target", "find_node");
    } else if (method == "get_peers") {
        q.method = Method::get_peers;
        q.target = require_id(args, "info_hash", "get_peers");
    } else if (method == "announce_peer") {
        q.method = Method::announce_peer;
        read_announce(q, args, limits);
    } else {
        reject("method unknown", error_code::kMethodUnknown);
    }
    if (q.method == Method::find_node || q.method == Method::get_peers) read_want(q, args);
    return q;
}

void read_nodes(Response& r, const Value& reply, std::string_view key, bool ipv6,
                const KrpcLimits& limits) {
    const Value* v = reply.find(key);
    if (!v) return;
    if (!v->is_string()) reject("response '" + std::string(key) + "' is not a string");
    std::size_t entry = ipv6 ? kV6Node : kV4Node;
    if (v->as_string().size() > limits.max_nodes * entry)
        reject("response '" + std::string(key) + "' has more than " +
               std::to_string(limits.max_nodes) + " nodes");
    auto nodes = parse_compact_nodes(v->as_string(), ipv6);
    if (!nodes)
        reject("response '" + std::string(key) + "' length is not a multiple of " +
               std::to_string(entry));
    r.nodes.insert(r.nodes.end(), nodes->begin(), nodes->end());
}

void read_values(Response& r, const Value& reply, const KrpcLimits& limits) {
    const Value* v = reply.find("values");
    if (!v) return;
    if (!v->is_list()) reject("response 'values' is not a list");
    if (v->as_list().size() > limits.max_values)
        reject("response 'values' has more than " + std::to_string(limits.max_values) + " peers");
    for (const Value& peer : v->as_list()) {
        auto ep = peer.is_string() ? parse_compact_endpoint(peer.as_string()) : std::nullopt;
        if (!ep) reject("response 'values' entry is not a 6- or 18-byte compact peer");
        if (ep->port() != 0) r.values.push_back(*ep);
    }
}

Response read_response(const Value& root, const KrpcLimits& limits) {
    const Value& reply = require(root, "r", "response");
    if (!reply.is_dict()) reject("response 'r' is not a dictionary");
    Response r;
    r.id = require_id(reply, "id", "response");
    read_nodes(r, reply, "nodes", false, limits);
    read_nodes(r, reply, "nodes6", true, limits);
    read_values(r, reply, limits);
    if (const Value* token = reply.find("token")) {
        if (!token->is_string() || token->as_string().size() > limits.max_token)
            reject("response 'token' is not a string of at most " +
                   std::to_string(limits.max_token) + " bytes");
        r.token = token->as_string();
    }
    return r;
}

Error read_error(const Value& root, const KrpcLimits& limits) {
    const Value& e = require(root, "e", "error");
    if (!e.is_list() || e.as_list().size() < 2 || !e.as_list()[0].is_int() ||
        !e.as_list()[1].is_string())
        reject("error 'e' is not a list of a code and a message");
    Error err;
    err.code = e.as_list()[0].as_int();
    err.message = e.as_list()[1].as_string().substr(0, limits.max_error_message);
    return err;
}

std::string read_transaction_id(const Value& root, const KrpcLimits& limits) {
    const Value* t = root.find("t");
    if (!t || !t->is_string() || t->as_string().empty() ||
        t->as_string().size() > limits.max_transaction_id)
        reject("message has no transaction id 't' of 1 to " +
               std::to_string(limits.max_transaction_id) + " bytes");
    return t->as_string();
}

Message read_message(const Value& root, const KrpcLimits& limits, std::string& tid) {
    tid = read_transaction_id(root, limits);
    Message m;
    m.transaction_id = tid;
    const Value* y = root.find("y");
    if (!y || !y->is_string() || y->as_string().size() != 1)
        reject("message has no type 'y' of 'q', 'r' or 'e'");
    if (const Value* v = root.find("v");
        v && v->is_string() && v->as_string().size() <= limits.max_version)
        m.version = v->as_string();
    if (const Value* ip = root.find("ip"); ip && ip->is_string())
        m.requester = parse_compact_endpoint(ip->as_string());
    switch (y->as_string()[0]) {
        case 'q': {
            m.body = read_query(root, limits);
            const Value* ro = root.find("ro");
            m.read_only = ro && ro->is_int() && ro->as_int() == 1;
            return m;
        }
        case 'r':
            m.body = read_response(root, limits);
            return m;
        case 'e':
            m.body = read_error(root, limits);
            return m;
    }
    reject("message has no type 'y' of 'q', 'r' or 'e'");
}

Value make_id(const NodeId& id) {
    return bencode::make_string(std::string(as_chars(id)));
}

Value encode_query_args(const Query& q) {
    bencode::Dict a;
    a["id"] = make_id(q.id);
    switch (q.method) {
        case Method::ping:
            break;
        case Method::find_node:
            a["target"] = make_id(q.target);
            break;
        case Method::get_peers:
            a["info_hash"] = make_id(q.target);
            break;
        case Method::announce_peer:
            a["info_hash"] = make_id(q.target);
            a["port"] = bencode::make_int(q.port);
            a["token"] = bencode::make_string(q.token);
            if (q.implied_port) a["implied_port"] = bencode::make_int(1);
            break;
    }
    bencode::List want;
    if (q.want_v4) want.push_back(bencode::make_string("n4"));
    if (q.want_v6) want.push_back(bencode::make_string("n6"));
    if (!want.empty()) a["want"] = bencode::make_list(std::move(want));
    return bencode::make_dict(std::move(a));
}

Value encode_response(const Response& r) {
    bencode::Dict d;
    d["id"] = make_id(r.id);
    if (std::string v4 = compact_nodes(r.nodes, false); !v4.empty())
        d["nodes"] = bencode::make_string(std::move(v4));
    if (std::string v6 = compact_nodes(r.nodes, true); !v6.empty())
        d["nodes6"] = bencode::make_string(std::move(v6));
    if (!r.values.empty()) {
        bencode::List values;
        for (const auto& ep : r.values)
            values.push_back(bencode::make_string(compact_endpoint(ep)));
        d["values"] = bencode::make_list(std::move(values));
    }
    if (!r.token.empty()) d["token"] = bencode::make_string(r.token);
    return bencode::make_dict(std::move(d));
}

void encode_body(bencode::Dict& root, const Message& m) {
    if (const auto* q = std::get_if<Query>(&m.body)) {
        root["y"] = bencode::make_string("q");
        root["q"] = bencode::make_string(std::string(method_name(q->method)));
        root["a"] = encode_query_args(*q);
        if (m.read_only) root["ro"] = bencode::make_int(1);
    } else if (const auto* r = std::get_if<Response>(&m.body)) {
        root["y"] = bencode::make_string("r");
        root["r"] = encode_response(*r);
    } else {
        const auto& e = std::get<Error>(m.body);
        root["y"] = bencode::make_string("e");
        root["e"] =
            bencode::make_list({bencode::make_int(e.code), bencode::make_string(e.message)});
    }
}

}  // namespace

std::string_view method_name(Method method) {
    switch (method) {
        case Method::ping:
            return "ping";
        case Method::find_node:
            return "find_node";
        case Method::get_peers:
            return "get_peers";
        case Method::announce_peer:
            return "announce_peer";
    }
    return "ping";
}

DecodeResult decode_krpc(std::string_view packet, const KrpcLimits& limits) {
    if (packet.size() > limits.max_packet)
        return DecodeFailure{{},
                             error_code::kProtocol,
                             "packet of " + std::to_string(packet.size()) +
                                 " bytes is over the limit of " +
                                 std::to_string(limits.max_packet)};
    std::string tid;
    try {
        bencode::Limits b;
        b.max_depth = 4;  // root -> "a"/"r" -> "want"/"values" -> their strings
        b.max_input = limits.max_packet;
        b.max_items = 512;
        Value root = bencode::decode(packet, b);
        if (!root.is_dict()) return DecodeFailure{{}, error_code::kProtocol, "not a dictionary"};
        return read_message(root, limits, tid);
    } catch (const bencode::DecodeError& e) {
        return DecodeFailure{{}, error_code::kProtocol, std::string("not bencoded: ") + e.what()};
    } catch (const Reject& r) {
        return DecodeFailure{tid, r.code, r.reason};
    }
}

std::string encode_krpc(const Message& message) {
    bencode::Dict root;
    root["t"] = bencode::make_string(message.transaction_id);
    encode_body(root, message);
    if (message.requester) root["ip"] = bencode::make_string(compact_endpoint(*message.requester));
    if (!message.version.empty()) root["v"] = bencode::make_string(message.version);
    return bencode::encode(bencode::make_dict(std::move(root)));
}

std::optional<std::vector<NodeInfo>> parse_compact_nodes(std::string_view bytes, bool ipv6) {
    std::size_t entry = ipv6 ? kV6Node : kV4Node;
    if (bytes.size() % entry != 0) return std::nullopt;
    std::vector<NodeInfo> out;
    for (std::size_t i = 0; i < bytes.size(); i += entry) {
        auto p = reinterpret_cast<const unsigned char*>(bytes.data() + i);
        NodeInfo n{hash_from_bytes(bytes.substr(i, 20)), read_endpoint(p + 20, ipv6)};
        if (n.endpoint.port() != 0) out.push_back(n);
    }
    return out;
}

std::string compact_nodes(const std::vector<NodeInfo>& nodes, bool ipv6) {
    std::string out;
    for (const auto& n : nodes) {
        if (n.endpoint.address().is_v6() != ipv6) continue;
        out += as_chars(n.id);
        out += compact_endpoint(n.endpoint);
    }
    return out;
}

std::optional<Endpoint> parse_compact_endpoint(std::string_view bytes) {
    if (bytes.size() != 6 && bytes.size() != 18) return std::nullopt;
    return read_endpoint(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() == 18);
}

std::string compact_endpoint(const Endpoint& endpoint) {
    std::string out;
    if (endpoint.address().is_v4()) {
        auto b = endpoint.address().to_v4().to_bytes();
        out.append(reinterpret_cast<const char*>(b.data()), b.size());
    } else {
        auto b = endpoint.address().to_v6().to_bytes();
        out.append(reinterpret_cast<const char*>(b.data()), b.size());
    }
    out += static_cast<char>(endpoint.port() >> 8);
    out += static_cast<char>(endpoint.port() & 0xff);
    return out;
}

}  // namespace btd::dht
