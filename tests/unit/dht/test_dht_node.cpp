#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string_view>

#include "core/dht/dht_node.hpp"

using namespace btd;
using namespace btd::dht;

namespace {

Endpoint loopback(int last_byte) {
    return Endpoint(boost::asio::ip::make_address("127.0.0." + std::to_string(last_byte)), 0);
}

// Runs the io_context until `done` or the time is up (bounded).
template <class Done>
bool run_until(boost::asio::io_context& io, Done done, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(20));
        io.restart();
    }
    return done();
}

}  // namespace

TEST_CASE("DHT nodes on loopback bootstrap, announce and find each other's peers") {
    boost::asio::io_context io;
    NodeId info_hash{};
    info_hash[0] = 0x42;
    std::vector<Endpoint> found_by_c;
    auto ignore = [](const NodeId&, std::vector<Endpoint>) {};
    DhtNode b(io, loopback(2), std::nullopt, ignore);
    DhtNode a(io, loopback(3), std::nullopt, ignore);
    DhtNode c(io, loopback(4), std::nullopt, [&](const NodeId& ih, std::vector<Endpoint> peers) {
        CHECK(ih == info_hash);
        found_by_c.insert(found_by_c.end(), peers.begin(), peers.end());
    });
    a.bootstrap({b.local_endpoint()});
    c.bootstrap({b.local_endpoint()});
    REQUIRE(run_until(
        io, [&] { return a.stats().nodes >= 1 && b.stats().nodes >= 2; },
        std::chrono::seconds(10)));

    bool announced = false;
    REQUIRE(a.get_peers(info_hash, std::uint16_t{7000}, [&](std::size_t) { announced = true; }));
    CHECK_FALSE(a.get_peers(info_hash, std::uint16_t{7000}));  // one lookup per info-hash
    REQUIRE(run_until(
        io, [&] { return announced; }, std::chrono::seconds(10)));
    // Give the announce_peer time to arrive and be answered.
    run_until(
        io, [&] { return a.stats().pending == 0; }, std::chrono::seconds(5));

    REQUIRE(c.get_peers(info_hash, std::nullopt));
    REQUIRE(run_until(
        io, [&] { return !found_by_c.empty(); }, std::chrono::seconds(10)));
    CHECK(found_by_c.front() == Endpoint(loopback(3).address(), 7000));
}

TEST_CASE("a DHT node drops replies it never asked for and survives junk") {
    boost::asio::io_context io;
    DhtNode node(io, loopback(5), std::nullopt, [](const NodeId&, std::vector<Endpoint>) {});
    boost::asio::ip::udp::socket junk(io, loopback(6));
    auto send = [&](std::string bytes) {
        junk.send_to(boost::asio::buffer(bytes), node.local_endpoint());
    };
    send("not bencode at all");
    send("d1:t2:xx1:y1:r1:rd2:id20:aaaaaaaaaaaaaaaaaaaaee");  // a reply to no query of ours
    send(std::string(5000, 'l'));
    REQUIRE(run_until(
        io, [&] { return node.stats().packets_in >= 3; }, std::chrono::seconds(5)));
    CHECK(node.stats().packets_dropped == 3);
    CHECK(node.stats().nodes == 0);  // an unsolicited reply adds nobody
}

TEST_CASE("a DHT node answers a ping and limits what one address may send") {
    boost::asio::io_context io;
    DhtNode node(io, loopback(7), std::nullopt, [](const NodeId&, std::vector<Endpoint>) {});
    boost::asio::ip::udp::socket asker(io, loopback(8));
    asker.non_blocking(true);
    std::string ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
    for (int i = 0; i < 80; ++i) asker.send_to(boost::asio::buffer(ping), node.local_endpoint());
    REQUIRE(run_until(
        io, [&] { return node.stats().packets_in >= 80; }, std::chrono::seconds(5)));
    int answers = 0;
    run_until(
        io,
        [&] {
            char buf[2048];
            Endpoint from;
            boost::system::error_code ec;
            std::size_t n = 0;
            while ((n = asker.receive_from(boost::asio::buffer(buf), from, 0, ec)) > 0 && !ec)
                if (std::string_view(buf, n).find("1:y1:r") != std::string_view::npos) ++answers;
            return false;
        },
        std::chrono::seconds(1));
    CHECK(answers == 50);  // RateGuard: 50 packets in 10 s per source (its own pings aside)
    CHECK(node.stats().packets_dropped == 30);
}

TEST_CASE("BEP 42: once five nodes agree on our external address the node id follows it") {
    boost::asio::io_context io;
    DhtNode node(io, loopback(9), std::nullopt, [](const NodeId&, std::vector<Endpoint>) {});
    const auto external = boost::asio::ip::make_address("203.0.113.7");  // TEST-NET-3
    const auto first_id = node.id();
    REQUIRE_FALSE(bep42_id_matches(first_id, external));
    std::vector<std::unique_ptr<boost::asio::ip::udp::socket>> voters;
    std::vector<Endpoint> routers;
    for (int i = 0; i < 5; ++i) {
        voters.push_back(std::make_unique<boost::asio::ip::udp::socket>(io, loopback(10 + i)));
        voters.back()->non_blocking(true);
        routers.push_back(voters.back()->local_endpoint());
    }
    node.bootstrap(routers);  // a find_node to each: their replies carry the votes
    // A voter answers the query it got with "ip" = the external address. The lookup asks
    // three at a time, in an order of its own: whoever was asked answers.
    std::size_t answered = 0;
    auto answer_one = [&] {
        auto before = answered;
        return run_until(
            io,
            [&] {
                if (answered > before) return true;  // run_until asks once more at the end
                for (auto& voter : voters) {
                    char buf[2048];
                    Endpoint from;
                    boost::system::error_code ec;
                    auto n = voter->receive_from(boost::asio::buffer(buf), from, 0, ec);
                    if (ec || n == 0) continue;
                    auto query = decode_krpc(std::string_view(buf, n));
                    auto* m = std::get_if<Message>(&query);
                    if (!m || !std::holds_alternative<Query>(m->body)) continue;
                    Message reply;
                    reply.transaction_id = m->transaction_id;
                    Response r;
                    r.id = random_node_id();
                    reply.body = r;
                    reply.requester = Endpoint(external, 6881);
                    voter->send_to(boost::asio::buffer(encode_krpc(reply)), from);
                    ++answered;
                    return true;
                }
                return false;
            },
            std::chrono::seconds(5));
    };
    auto votes_counted = [&](std::size_t nodes) {
        return run_until(
            io, [&] { return node.stats().nodes >= nodes; }, std::chrono::seconds(5));
    };
    for (std::size_t i = 0; i < 4; ++i) {
        REQUIRE(answer_one());
        REQUIRE(votes_counted(i + 1));
    }
    CHECK(node.id() == first_id);  // four voters are not enough
    REQUIRE(answer_one());
    REQUIRE(run_until(
        io, [&] { return node.id() != first_id; }, std::chrono::seconds(5)));
    CHECK(bep42_id_matches(node.id(), external));
}

TEST_CASE("a DHT node limits what it sends to one address") {
    // Counts the queries a silent node receives when we start `lookups` bootstraps at it.
    auto queries_received = [](std::size_t limit, int lookups) {
        boost::asio::io_context io;
        boost::asio::ip::udp::socket sink(io, loopback(10));
        sink.non_blocking(true);
        DhtNodeOptions options;
        options.outgoing.max_packets = limit;
        DhtNode node(
            io, loopback(9), std::nullopt, [](const NodeId&, std::vector<Endpoint>) {}, options);
        for (int i = 0; i < lookups; ++i) node.bootstrap({sink.local_endpoint()});
        int received = 0;
        run_until(
            io,
            [&] {
                char buf[2048];
                Endpoint from;
                boost::system::error_code ec;
                while (sink.receive_from(boost::asio::buffer(buf), from, 0, ec) > 0 && !ec)
                    ++received;
                return false;
            },
            std::chrono::seconds(1));
        return received;
    };
    CHECK(queries_received(30, 8) == 8);  // under the limit: every lookup's query goes out
    CHECK(queries_received(3, 8) == 3);   // RateGuard: 3 packets in 10 s to one address
}
