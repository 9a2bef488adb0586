// A magnet's MetadataJob against the session's clock (core/util/engine_clock.hpp): a peer that
// never sends its extension handshake is dropped once kExtensionHandshakeTimeout has passed on a
// test::ManualClock, and is dialled again only after its back-off, without sleeping. The far
// ends are in-memory streams (tests/support/memory_peer_stream.hpp). Every wait is bounded.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../support/manual_clock.hpp"
#include "../../support/memory_peer_stream.hpp"
#include "../storage/storage_fixture.hpp"
#include "core/peer/wire.hpp"
#include "core/session/metadata_fetch.hpp"
#include "core/session/metadata_job.hpp"
#include "core/session/peer_policy.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using test::MemoryPeerStream;

namespace {

const tcp::endpoint kPeer(asio::ip::make_address_v4("127.0.0.2"), 6881);

// The far end of one dialled connection: answers the job's handshake with one that offers the
// extension protocol, then never sends its extension handshake (nor anything else).
class MutePeer {
  public:
    MutePeer(std::unique_ptr<MemoryPeerStream> stream, const Sha1Hash& info_hash)
        : stream_(std::move(stream)), info_hash_(info_hash) {
        read();
    }
    ~MutePeer() { *alive_ = false; }

    bool heard_after_handshake = false;  // the job spoke after the handshakes
    bool hung_up = false;                // the job closed the connection

  private:
    void read() {
        stream_->async_read_some(
            asio::buffer(buf_),
            [this, alive = alive_](const boost::system::error_code& ec, std::size_t n) {
                if (!*alive) return;
                if (ec) {
                    hung_up = true;
                    return;
                }
                received_ += n;
                if (!answered_ && received_ >= wire::kHandshakeSize) answer();
                if (received_ > wire::kHandshakeSize) heard_after_handshake = true;
                read();
            });
    }
    void answer() {
        answered_ = true;
        PeerId id{};
        id.fill('M');
        auto bytes = std::make_shared<std::string>(
            wire::encode_handshake(wire::make_handshake(info_hash_, id)));
        stream_->async_write(asio::buffer(*bytes),
                             [bytes](const boost::system::error_code&, std::size_t) {});
    }

    std::unique_ptr<MemoryPeerStream> stream_;
    Sha1Hash info_hash_;
    std::array<char, 4096> buf_{};
    std::size_t received_ = 0;
    bool answered_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

struct MagnetFixture {
    test::ManualClock clock;
    asio::io_context io;
    SessionContext ctx{io, settings(), clock};
    test::TempDir dir;
    Sha1Hash info_hash = sha1(std::string("a magnet"));
    std::vector<std::unique_ptr<MutePeer>> dialled;  // one per dial, in order
    std::unique_ptr<MetadataJob> job;

    MagnetFixture() {
        ctx.open_stream = [this](const tcp::endpoint& ep) {
            auto [near, far] = MemoryPeerStream::pair(io, ep);
            dialled.push_back(std::make_unique<MutePeer>(std::move(far), info_hash));
            return std::unique_ptr<PeerStream>(std::move(near));
        };
        MagnetLink link;
        link.info_hash = info_hash;
        link.peers = {kPeer};
        job = std::make_unique<MetadataJob>(ctx, link, dir.path(), false, 0, [](std::string) {});
        job->start();
    }
    ~MagnetFixture() {
        bool stopped = false;
        job->stop([&] { stopped = true; });
        run_until([&] { return stopped; }, 10s);
        job.reset();
        run_until([] { return false; }, 1s);  // late completions find the job gone
    }
    static SessionSettings settings() {
        SessionSettings s;
        s.listen_port = 0;
        s.disk_threads = 1;
        return s;
    }
    // Runs the network thread only: the test ticks the job itself, after moving the clock.
    template <class Pred>
    bool run_until(Pred done, std::chrono::seconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io.restart();
            if (io.run_for(10ms) == 0) std::this_thread::sleep_for(1ms);
        }
        return done();
    }
    void tick_after(std::chrono::seconds by) {
        clock.advance(by);
        job->tick();
        run_until([] { return false; }, 1s);  // what the tick closed or dialled gets that far
    }
};

}  // namespace

TEST_CASE(
    "a magnet's peer without an extension handshake is dropped after its timeout on the "
    "session's clock, and redialled only after its back-off") {
    MagnetFixture f;
    REQUIRE(f.run_until([&] { return f.dialled.size() == 1; }, 10s));
    // The job answered the handshakes with its own extension handshake: it waits for ours.
    REQUIRE(f.run_until([&] { return f.dialled[0]->heard_after_handshake; }, 10s));

    f.tick_after(kExtensionHandshakeTimeout - 1s);
    CHECK_FALSE(f.dialled[0]->hung_up);
    f.tick_after(2s);
    CHECK(f.run_until([&] { return f.dialled[0]->hung_up; }, 5s));

    auto backoff = peer_policy::redial_delay(1);  // the handshake had reset the failures
    f.tick_after(backoff - 1s);
    CHECK(f.dialled.size() == 1);
    f.tick_after(2s);
    CHECK(f.dialled.size() == 2);
}
