// Every outgoing peer connection honours bind_interface, whoever dials it: a Torrent, or a
// magnet's MetadataJob before the metadata is known. The session context's stream factory hands
// out in-memory streams (tests/support/memory_peer_stream.hpp) that record what they were bound
// to. Every wait is bounded.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../../support/memory_peer_stream.hpp"
#include "../storage/storage_fixture.hpp"
#include "core/bencode/bencode.hpp"
#include "core/session/metadata_job.hpp"
#include "core/session/torrent.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using test::MemoryPeerStream;

namespace {

const tcp::endpoint kPeer(asio::ip::make_address_v4("127.0.0.2"), 6881);

// A session context whose every outgoing stream is kept (far end) for the test to inspect.
struct DialRecorder {
    asio::io_context io;
    SessionContext ctx;
    std::vector<std::unique_ptr<MemoryPeerStream>> far_ends;

    explicit DialRecorder(const std::string& bind_interface) : ctx(io, settings(bind_interface)) {
        ctx.open_stream = [this](const tcp::endpoint& ep) {
            auto [near, far] = MemoryPeerStream::pair(io, ep);
            far_ends.push_back(std::move(far));
            return std::unique_ptr<PeerStream>(std::move(near));
        };
    }
    static SessionSettings settings(const std::string& bind_interface) {
        SessionSettings s;
        s.listen_port = 0;
        s.disk_threads = 1;
        s.bind_interface = bind_interface;
        return s;
    }
    // Runs the network thread, calling `tick` once a second as the Session does.
    template <class Pred>
    bool run_until(Pred done, std::chrono::seconds limit, const std::function<void()>& tick) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        auto next_tick = std::chrono::steady_clock::now() + 1s;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io.restart();
            if (io.run_for(10ms) == 0) std::this_thread::sleep_for(1ms);  // waiting on the pool
            if (std::chrono::steady_clock::now() >= next_tick) {
                next_tick += 1s;
                tick();
            }
        }
        return done();
    }
    // Where the first dialled stream was bound, once the connection has got that far.
    std::optional<std::string> first_bind(std::chrono::seconds limit,
                                          const std::function<void()>& tick) {
        run_until([&] { return !far_ends.empty() && far_ends.front()->bound_to(); }, limit, tick);
        if (far_ends.empty()) return std::nullopt;
        return far_ends.front()->bound_to();
    }
};

// Stops `job` as the Session does, and lets its late completions run.
template <class Job>
void stop(DialRecorder& rec, Job& job) {
    bool stopped = false;
    job.stop([&] { stopped = true; });
    rec.run_until([&] { return stopped; }, 10s, [] {});
}

Metainfo one_piece_torrent() {
    using namespace bencode;
    std::string content(1000, 'x');
    auto hash = sha1(std::string_view(content));
    Dict info{{"name", make_string("bound")},
              {"piece length", make_int(16384)},
              {"pieces", make_string(std::string(as_chars(hash)))},
              {"length", make_int(static_cast<std::int64_t>(content.size()))}};
    return parse_metainfo(encode(make_dict({{"info", make_dict(std::move(info))}})));
}

}  // namespace

TEST_CASE("a magnet's metadata job dials peers only from bind_interface") {
    DialRecorder rec("127.0.0.1");
    test::TempDir dir;
    MagnetLink link;
    link.info_hash = one_piece_torrent().info_hash;
    link.peers = {kPeer};
    MetadataJob job(rec.ctx, link, dir.path(), false, 0, [](std::string) {});
    job.start();
    auto bound = rec.first_bind(20s, [&] { job.tick(); });
    REQUIRE(!rec.far_ends.empty());
    CHECK(bound == std::optional<std::string>("127.0.0.1"));
    stop(rec, job);
}

TEST_CASE("a torrent dials peers only from bind_interface") {
    DialRecorder rec("127.0.0.1");
    test::TempDir dir;
    auto torrent =
        std::make_unique<Torrent>(rec.ctx, one_piece_torrent(), dir.path(), std::nullopt, false, 0);
    torrent->start();
    torrent->add_peers({kPeer}, PeerSource::tracker);
    auto bound = rec.first_bind(30s, [&] { torrent->tick(); });  // after the (short) check
    REQUIRE(!rec.far_ends.empty());
    CHECK(bound == std::optional<std::string>("127.0.0.1"));
    stop(rec, *torrent);
}

TEST_CASE("without bind_interface nothing is bound") {
    DialRecorder rec("");
    test::TempDir dir;
    MagnetLink link;
    link.info_hash = one_piece_torrent().info_hash;
    link.peers = {kPeer};
    MetadataJob job(rec.ctx, link, dir.path(), false, 0, [](std::string) {});
    job.start();
    // Connected (the far end answers nothing, so the handshake stays pending): past bind.
    rec.run_until([&] { return !rec.far_ends.empty(); }, 20s, [&] { job.tick(); });
    rec.run_until([] { return false; }, 1s, [] {});
    REQUIRE(!rec.far_ends.empty());
    CHECK(!rec.far_ends.front()->bound_to());
    stop(rec, job);
}
