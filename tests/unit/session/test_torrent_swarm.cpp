// A whole Torrent against scripted peers, without a socket: the session context's stream factory
// hands out in-memory streams (tests/support/memory_peer_stream.hpp) whose far ends are driven
// by ScriptedPeer, which speaks BitTorrent with wire.hpp. Real metainfo (bencoded, then parsed),
// real storage in a temp dir, the real disk pool. Every wait is bounded.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../../support/manual_clock.hpp"
#include "../../support/memory_peer_stream.hpp"
#include "../storage/storage_fixture.hpp"
#include "core/bencode/bencode.hpp"
#include "core/peer/wire.hpp"
#include "core/session/peer_list.hpp"
#include "core/session/peer_policy.hpp"
#include "core/session/torrent.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using test::MemoryPeerStream;

namespace {

constexpr std::int64_t kPieceLength = 2 * kBlockSize;

// Two files whose sizes fit no piece boundary; the last piece is a single short block.
struct SwarmTorrent {
    std::string content;
    Metainfo meta;

    explicit SwarmTorrent(std::int64_t first_file, std::int64_t second_file) {
        std::mt19937 rng(42);
        for (std::int64_t i = 0; i < first_file + second_file; ++i)
            content.push_back(static_cast<char>(rng()));
        std::string hashes;
        for (std::size_t off = 0; off < content.size(); off += kPieceLength)
            hashes += as_chars(sha1(std::string_view(content).substr(off, kPieceLength)));
        using namespace bencode;
        auto file = [](std::int64_t length, const std::string& name) {
            return make_dict(
                {{"length", make_int(length)}, {"path", make_list({make_string(name)})}});
        };
        Dict info{{"name", make_string("swarm")},
                  {"piece length", make_int(kPieceLength)},
                  {"pieces", make_string(hashes)},
                  {"files", make_list({file(first_file, "a.bin"), file(second_file, "b.bin")})}};
        meta = parse_metainfo(encode(make_dict({{"info", make_dict(std::move(info))}})));
    }
    std::string block(const BlockRef& b) const {
        return content.substr(std::size_t(b.piece) * kPieceLength + b.offset, b.length);
    }
    std::set<std::pair<int, int>> all_blocks() const {
        std::set<std::pair<int, int>> out;
        for (int p = 0; p < meta.num_pieces(); ++p)
            for (int off = 0; off < meta.piece_size(p); off += kBlockSize) out.insert({p, off});
        return out;
    }
    // Puts the complete download in `dir`, as a torrent restarted after it finished finds it.
    void write_to(const std::filesystem::path& dir) const {
        std::filesystem::create_directories(dir / "swarm");
        auto first = static_cast<std::size_t>(meta.files[0].length);
        std::ofstream(dir / "swarm" / "a.bin", std::ios::binary) << content.substr(0, first);
        std::ofstream(dir / "swarm" / "b.bin", std::ios::binary) << content.substr(first);
    }
    // What the download dir must hold: the two files, byte for byte.
    bool on_disk(const std::filesystem::path& dir) const {
        return test::read_file(dir / "swarm" / "a.bin") +
                   test::read_file(dir / "swarm" / "b.bin") ==
               content;
    }
};

struct Script {
    bool seed = true;            // bitfield with every piece; unchoke once interested
    bool answer = true;          // answers requests (else keeps them, as a stalled peer does)
    int answer_first = -1;       // answers only this many requests, then stalls (-1: all)
    std::set<int> corrupt_once;  // pieces whose first delivery has one byte flipped
    bool corrupt_all = false;    // every block it sends is corrupt
};

// The far end of one connection: reads our handshake, answers with its own and a bitfield,
// unchokes an interested torrent and serves its requests as the script says; or, when it is the
// one that connects (attach_incoming), sends its handshake first and its bitfield once the
// torrent has answered. Records what the torrent sent. A late completion after the peer is gone
// is dropped (alive_).
class ScriptedPeer {
  public:
    ScriptedPeer(const SwarmTorrent& torrent, char id, Script script)
        : torrent_(torrent), script_(std::move(script)) {
        peer_id_.fill(static_cast<std::uint8_t>(id));
    }
    ~ScriptedPeer() { *alive_ = false; }

    void attach(std::unique_ptr<MemoryPeerStream> stream) {
        stream_ = std::move(stream);
        in_.clear();
        handshake_done_ = false;
        sent_handshake_ = false;
        eof = false;
        read();
    }
    void attach_incoming(std::unique_ptr<MemoryPeerStream> stream) {
        attach(std::move(stream));
        send(wire::encode_handshake(handshake()));
        sent_handshake_ = true;
    }
    wire::Handshake handshake() const {  // plain BEP 3: no Fast, no extension protocol
        wire::Handshake ours;
        ours.info_hash = torrent_.meta.info_hash;
        ours.peer_id = peer_id_;
        return ours;
    }
    void hang_up() { stream_->close(); }

    std::vector<BlockRef> requests;  // every request, in order
    std::vector<BlockRef> cancels;
    std::vector<int> haves;
    bool interested = false;
    bool eof = false;  // the torrent closed the connection
    std::string error;

  private:
    void read() {
        stream_->async_read_some(
            asio::buffer(buf_),
            [this, alive = alive_](const boost::system::error_code& ec, std::size_t n) {
                if (!*alive) return;
                if (ec) {
                    eof = true;
                    return;
                }
                in_.append(buf_.data(), n);
                if (process()) read();
            });
    }

    bool process() {
        if (!handshake_done_) {
            if (in_.size() < wire::kHandshakeSize) return true;
            auto theirs = wire::decode_handshake(std::string_view(in_).substr(0, 68));
            in_.erase(0, wire::kHandshakeSize);
            if (!theirs || theirs->info_hash != torrent_.meta.info_hash)
                return fail("bad handshake from the torrent");
            handshake_done_ = true;
            std::string out = sent_handshake_ ? "" : wire::encode_handshake(handshake());
            Bitfield have(torrent_.meta.num_pieces());
            if (script_.seed) have.set_all();
            wire::append_bitfield(out, have.wire_bytes());
            send(std::move(out));
        }
        while (in_.size() >= 4) {
            std::uint32_t len = wire::read_u32(in_.data());
            if (in_.size() < 4 + std::size_t(len)) break;
            std::string body = in_.substr(4, len);
            in_.erase(0, 4 + std::size_t(len));
            try {
                on_message(wire::decode_message(body));
            } catch (const wire::ProtocolError& e) {
                return fail(std::string("torrent sent a malformed message: ") + e.what());
            }
        }
        return true;
    }

    bool fail(std::string why) {
        error = std::move(why);
        stream_->close();
        return false;
    }

    void on_message(const wire::Message& msg) {
        BlockRef block{int(msg.piece), int(msg.offset), int(msg.length)};
        switch (msg.type) {
            case wire::MsgType::interested:
                interested = true;
                if (script_.seed) send_simple(wire::MsgType::unchoke);
                return;
            case wire::MsgType::request:
                requests.push_back(block);
                if (script_.answer && (script_.answer_first < 0 ||
                                       static_cast<int>(requests.size()) <= script_.answer_first))
                    serve(block);
                return;
            case wire::MsgType::cancel:
                cancels.push_back(block);
                return;
            case wire::MsgType::have:
                haves.push_back(int(msg.piece));
                return;
            default:
                return;
        }
    }

    void serve(const BlockRef& block) {
        std::string data = torrent_.block(block);
        if (script_.corrupt_all || script_.corrupt_once.erase(block.piece)) data[0] ^= 0x5a;
        std::string out;
        wire::append_piece_header(out, block.piece, block.offset, std::uint32_t(data.size()));
        send(out + data);
    }

    void send_simple(wire::MsgType type) {
        std::string out;
        wire::append_simple(out, type);
        send(std::move(out));
    }

    void send(std::string bytes) {
        auto owned = std::make_shared<std::string>(std::move(bytes));
        stream_->async_write(asio::buffer(*owned),
                             [owned](const boost::system::error_code&, std::size_t) {});
    }

    const SwarmTorrent& torrent_;
    Script script_;
    PeerId peer_id_{};
    std::unique_ptr<MemoryPeerStream> stream_;
    std::array<char, 4096> buf_{};
    std::string in_;
    bool handshake_done_ = false;
    bool sent_handshake_ = false;  // it connected to the torrent and spoke first
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// One torrent job on a session context whose outgoing connections reach scripted peers. Its
// decisions read `clock` (a test::ManualClock drives time without sleeping); the loop's own
// once-a-second tick goes by real time either way.
class Swarm {
  public:
    // start_now false: the test puts files in dir() first, then calls job().start().
    explicit Swarm(const SwarmTorrent& torrent, const EngineClock& clock = system_clock(),
                   bool start_now = true)
        : torrent_(torrent), ctx_(io_, settings(), clock) {
        ctx_.open_stream = [this](const tcp::endpoint& ep) {
            auto [near, far] = MemoryPeerStream::pair(io_, ep);
            ++dials[ep];
            auto it = peers_.find(ep);
            if (it == peers_.end())
                near->refuse_connection();
            else
                it->second->attach(std::move(far));
            return std::unique_ptr<PeerStream>(std::move(near));
        };
        ctx_.emit = [this](SessionEvent e) { events.push_back(std::move(e)); };
        job_ = std::make_unique<Torrent>(ctx_, torrent_.meta, dir_.path(), std::nullopt, false, 0);
        if (start_now) job_->start();
    }
    ~Swarm() {
        bool stopped = false;
        job_->stop([&] { stopped = true; });
        run_until([&] { return stopped; });
        job_.reset();
        run_for(100ms);  // late completions find the torrent gone
    }

    // A scripted peer at 127.0.0.<n>:6881; the torrent hears of it through add_peers().
    tcp::endpoint add_peer(int n, Script script) {
        tcp::endpoint ep(asio::ip::make_address_v4("127.0.0." + std::to_string(n)), 6881);
        peers_[ep] = std::make_unique<ScriptedPeer>(torrent_, char('A' + n), std::move(script));
        return ep;
    }
    ScriptedPeer& peer(const tcp::endpoint& ep) { return *peers_.at(ep); }
    void tell(const tcp::endpoint& ep) { job_->add_peers({ep}, PeerSource::tracker); }
    // The scripted peer at `ep` connects to the torrent. Like the Listener, the test reads the
    // peer's handshake off the stream and then hands both to accept_incoming().
    void connect_in(const tcp::endpoint& ep) {
        auto [near, far] = MemoryPeerStream::pair(io_, ep);
        peers_.at(ep)->attach_incoming(std::move(far));
        listening_ = std::move(near);
        handshake_.clear();
        read_handshake();
    }
    std::optional<bool> accepted;  // what accept_incoming() answered

    std::optional<PeerStatus> peer_status(const tcp::endpoint& ep) const {
        for (const auto& p : job_->details().peers)
            if (p.address == endpoint_string(ep)) return p;
        return std::nullopt;
    }

    // Runs the network thread, ticking the torrent once a second as the Session does.
    template <class Pred>
    bool run_until(Pred done, std::chrono::seconds limit = 60s) {
        auto deadline = Clock::now() + limit;
        while (!done() && Clock::now() < deadline) {
            io_.restart();
            if (io_.run_for(10ms) == 0) std::this_thread::sleep_for(1ms);  // waiting on the pool
            if (Clock::now() >= next_tick_) {
                next_tick_ = Clock::now() + 1s;
                if (job_) job_->tick();
            }
        }
        return done();
    }
    void run_for(std::chrono::milliseconds how_long) {
        auto until = Clock::now() + how_long;
        run_until([&] { return Clock::now() >= until; });
    }

    TorrentStatus status() const { return job_->status(); }
    Torrent& job() { return *job_; }
    bool downloading() const { return status().state == TorrentState::downloading; }
    bool seeding() const { return status().state == TorrentState::seeding; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    template <class Event>
    std::vector<Event> events_of() const {
        std::vector<Event> out;
        for (const auto& e : events)
            if (auto* x = e.get<Event>()) out.push_back(*x);
        return out;
    }

    std::vector<SessionEvent> events;
    std::map<tcp::endpoint, int> dials;

  private:
    // Reads exactly the handshake (never more: what follows is the torrent's to read), then
    // hands the stream to the torrent.
    void read_handshake() {
        std::size_t have = handshake_.size();
        handshake_.resize(wire::kHandshakeSize);
        listening_->async_read_some(
            asio::buffer(handshake_.data() + have, wire::kHandshakeSize - have),
            [this, have](const boost::system::error_code& ec, std::size_t n) {
                handshake_.resize(have + (ec ? 0 : n));
                if (ec) return;
                if (handshake_.size() < wire::kHandshakeSize) return read_handshake();
                auto theirs = wire::decode_handshake(handshake_);
                if (!theirs) return;
                accepted = job_->accept_incoming(std::move(listening_), *theirs);
            });
    }

    SessionSettings settings() const {
        SessionSettings s;
        s.listen_port = 0;
        s.disk_threads = 2;
        return s;
    }

    const SwarmTorrent& torrent_;
    test::TempDir dir_;
    asio::io_context io_;
    SessionContext ctx_;
    std::map<tcp::endpoint, std::unique_ptr<ScriptedPeer>> peers_;
    std::unique_ptr<Torrent> job_;
    std::unique_ptr<MemoryPeerStream> listening_;  // connect_in: its handshake not read yet
    std::string handshake_;
    Clock::time_point next_tick_ = Clock::now() + 1s;
};

std::set<std::pair<int, int>> as_set(const std::vector<BlockRef>& blocks) {
    std::set<std::pair<int, int>> out;
    for (const auto& b : blocks) out.insert({b.piece, b.offset});
    return out;
}

std::vector<int> verified_pieces(const Swarm& swarm) {
    std::vector<int> out;
    for (const auto& e : swarm.events_of<PieceVerifiedEvent>()) out.push_back(e.piece);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<int> every_piece(const SwarmTorrent& t) {
    std::vector<int> out(t.meta.num_pieces());
    std::iota(out.begin(), out.end(), 0);
    return out;
}

}  // namespace

TEST_CASE("a torrent downloads from one scripted seed: every block asked once, HAVEs, verified") {
    SwarmTorrent t(70000, 100000);  // 6 pieces, the last a single short block
    REQUIRE(t.meta.num_pieces() == 6);
    Swarm swarm(t);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    auto seed = swarm.add_peer(2, Script{});
    swarm.tell(seed);

    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    auto& peer = swarm.peer(seed);
    CHECK(peer.error.empty());
    CHECK(peer.interested);
    CHECK(peer.requests.size() == t.all_blocks().size());  // each block once: no duplicates
    CHECK(as_set(peer.requests) == t.all_blocks());
    for (const auto& b : peer.requests)
        CHECK(b.length == (b.piece == 5 ? 170000 - 5 * kPieceLength : kBlockSize));
    CHECK(verified_pieces(swarm) == every_piece(t));
    // Both sides are seeds now: the torrent hangs up (HAVEs went out before).
    REQUIRE(swarm.run_until([&] { return peer.eof; }, 10s));
    auto haves = peer.haves;
    std::sort(haves.begin(), haves.end());
    CHECK(haves == every_piece(t));
    CHECK(swarm.events_of<CompletedEvent>().size() == 1);
    CHECK(swarm.events_of<PieceFailedEvent>().empty());
    CHECK(swarm.status().have_bytes == t.meta.total_size);
    CHECK(swarm.status().corrupt_bytes == 0);
    CHECK(t.on_disk(swarm.dir()));
}

TEST_CASE("a corrupt piece fails its hash check, is asked for again and the sender takes strikes") {
    SwarmTorrent t(70000, 100000);
    Swarm swarm(t);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    Script once;
    once.corrupt_once = {3};
    auto seed = swarm.add_peer(2, once);
    swarm.tell(seed);

    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    auto& peer = swarm.peer(seed);
    auto failed = swarm.events_of<PieceFailedEvent>();
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].piece == 3);
    CHECK(swarm.status().corrupt_bytes == kPieceLength);
    // Piece 3's two blocks were asked for twice, every other block once.
    std::map<std::pair<int, int>, int> asked;
    for (const auto& b : peer.requests) ++asked[{b.piece, b.offset}];
    for (const auto& [block, times] : asked) CHECK(times == (block.first == 3 ? 2 : 1));
    CHECK(verified_pieces(swarm) == every_piece(t));
    // Two strikes for a sole sender, a ban at four: one bad piece does not cost the connection.
    CHECK(swarm.dials[seed] == 1);
    CHECK(t.on_disk(swarm.dir()));
}

TEST_CASE("a peer whose pieces keep failing is banned; an honest peer finishes the download") {
    SwarmTorrent t(70000, 100000);
    Swarm swarm(t);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    Script liar_script;
    liar_script.corrupt_all = true;
    auto liar = swarm.add_peer(2, liar_script);
    swarm.tell(liar);
    // Its second bad piece brings it to the four strikes of a ban: the torrent hangs up.
    REQUIRE(swarm.run_until([&] { return swarm.peer(liar).eof; }));
    CHECK(swarm.events_of<PieceFailedEvent>().size() >= 2);
    CHECK(swarm.status().have_bytes == 0);

    auto honest = swarm.add_peer(3, Script{});
    swarm.tell(honest);
    swarm.tell(liar);  // heard of again: still banned, never dialled
    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    CHECK(swarm.dials[liar] == 1);
    CHECK(swarm.dials[honest] == 1);
    CHECK(verified_pieces(swarm) == every_piece(t));
    CHECK(t.on_disk(swarm.dir()));
}

TEST_CASE(
    "endgame: blocks a stalled peer holds are asked of another, and the stalled one is "
    "cancelled") {
    SwarmTorrent t(300000, 350000);  // 20 pieces, 40 blocks: more than one peer's pipeline
    Swarm swarm(t);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    Script stall;
    stall.answer = false;
    auto stalled = swarm.add_peer(2, stall);
    swarm.tell(stalled);
    REQUIRE(swarm.run_until([&] { return !swarm.peer(stalled).requests.empty(); }));
    swarm.run_for(200ms);  // its whole first batch is out
    auto held = as_set(swarm.peer(stalled).requests);
    CHECK(held.size() < t.all_blocks().size());  // the rest is left for others

    auto fast = swarm.add_peer(3, Script{});
    swarm.tell(fast);
    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    auto& good = swarm.peer(fast);
    auto& slow = swarm.peer(stalled);
    // The fast peer was asked for everything, the stalled peer's blocks included (endgame),
    // and each block only once.
    CHECK(as_set(good.requests) == t.all_blocks());
    CHECK(good.requests.size() == t.all_blocks().size());
    // Duplicates only in endgame: while blocks were free, none the stalled peer held was asked.
    std::size_t first_duplicate = good.requests.size();
    for (std::size_t i = 0; i < good.requests.size(); ++i)
        if (held.count({good.requests[i].piece, good.requests[i].offset})) {
            first_duplicate = i;
            break;
        }
    CHECK(first_duplicate == t.all_blocks().size() - held.size());
    // Each of the stalled peer's blocks, once it came from the fast one, was cancelled there.
    REQUIRE(swarm.run_until([&] { return slow.cancels.size() >= held.size() || slow.eof; }, 10s));
    CHECK(as_set(slow.cancels) == as_set(slow.requests));
    CHECK(slow.cancels.size() == slow.requests.size());
    CHECK(good.cancels.empty());
    CHECK(t.on_disk(swarm.dir()));
}

TEST_CASE(
    "paused mid-download: the picker lets go of its swarm state, progress and resume data "
    "stay right, and the resumed download asks only for what is missing") {
    SwarmTorrent t(300000, 350000);  // 20 pieces of 2 blocks
    Swarm swarm(t);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    Script partial;
    partial.answer_first = 12;  // 6 whole pieces at most, then it stalls
    auto first = swarm.add_peer(2, partial);
    swarm.tell(first);
    REQUIRE(swarm.run_until([&] { return verified_pieces(swarm).size() >= 4; }));
    swarm.run_for(300ms);  // whatever it answered is written
    CHECK(swarm.job().holds_swarm_state());
    auto had = verified_pieces(swarm);
    CHECK(had.size() <= 6);

    swarm.job().pause();
    CHECK_FALSE(swarm.job().holds_swarm_state());
    auto paused = swarm.status();
    CHECK(paused.state == TorrentState::paused);
    std::int64_t had_bytes = 0;
    for (int p : had) had_bytes += t.meta.piece_size(p);  // the last piece is shorter
    CHECK(paused.have_bytes == had_bytes);
    CHECK(paused.progress == doctest::Approx(double(paused.have_bytes) / t.meta.total_size));
    std::string saved;
    swarm.job().save_resume_data([&](ResumeData rd) { saved = rd.have; });
    REQUIRE(swarm.run_until([&] { return !saved.empty(); }, 10s));
    for (int p = 0; p < t.meta.num_pieces(); ++p)
        CHECK(saved[p] == (std::count(had.begin(), had.end(), p) ? '1' : '0'));

    swarm.job().resume();
    auto second = swarm.add_peer(3, Script{});
    swarm.tell(second);
    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    std::set<std::pair<int, int>> missing;
    for (auto [piece, offset] : t.all_blocks())
        if (!std::count(had.begin(), had.end(), piece)) missing.insert({piece, offset});
    auto& peer = swarm.peer(second);
    CHECK(as_set(peer.requests) == missing);
    CHECK(peer.requests.size() == missing.size());
    CHECK(verified_pieces(swarm) == every_piece(t));
    CHECK(t.on_disk(swarm.dir()));
    // Seeding with its peers gone: nothing downloads through the picker any more.
    REQUIRE(swarm.run_until([&] { return peer.eof && swarm.peer(first).eof; }, 10s));
    CHECK_FALSE(swarm.job().holds_swarm_state());
}

TEST_CASE("a peer that connects to the torrent handshakes first, is answered and seeds it all") {
    SwarmTorrent t(70000, 100000);
    Swarm swarm(t);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    auto seed = swarm.add_peer(2, Script{});
    swarm.connect_in(seed);
    REQUIRE(swarm.run_until([&] { return swarm.accepted.has_value(); }, 10s));
    CHECK(*swarm.accepted);
    // Reported as incoming while connected (both sides hang up once both are seeds).
    REQUIRE(swarm.run_until([&] { return swarm.peer(seed).interested; }));
    auto status = swarm.peer_status(seed);
    REQUIRE(status);
    CHECK(status->incoming);
    CHECK(status->source == PeerSource::incoming);

    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    auto& peer = swarm.peer(seed);
    CHECK(peer.error.empty());
    CHECK(as_set(peer.requests) == t.all_blocks());
    CHECK(peer.requests.size() == t.all_blocks().size());
    CHECK(verified_pieces(swarm) == every_piece(t));
    CHECK(swarm.dials.empty());  // nobody was dialled: the one connection came in
    CHECK(t.on_disk(swarm.dir()));
}

// ---- time through the session's clock (core/util/engine_clock.hpp) -----------------------------
// Each test below moves a ManualClock past a limit and ticks the torrent by hand; were the
// torrent to read the real clock, no limit would pass within the test's real second or two.

namespace {
// Moves the session's clock, then runs one tick of the torrent as the Session would.
void tick_after(Swarm& swarm, test::ManualClock& clock, std::chrono::seconds by) {
    clock.advance(by);
    swarm.job().tick();
    swarm.run_for(100ms);  // what the tick sent or closed is processed
}
// Seeding is shown once the last piece is verified; completion (done_at, seeding_since) follows
// once the files were checked on the disk pool.
bool completed(const Swarm& swarm) {
    return !swarm.events_of<CompletedEvent>().empty();
}
}  // namespace

TEST_CASE("a peer whose connection failed is dialled again only once its back-off has passed") {
    SwarmTorrent t(70000, 100000);
    test::ManualClock clock;
    Swarm swarm(t, clock);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    tcp::endpoint closed_port(asio::ip::make_address_v4("127.0.0.9"), 6881);  // nobody there
    swarm.tell(closed_port);
    REQUIRE(swarm.run_until([&] { return swarm.dials[closed_port] == 1; }, 10s));
    swarm.run_for(200ms);  // the refusal is processed

    auto first_backoff = peer_policy::redial_delay(1);  // 10 s
    tick_after(swarm, clock, first_backoff - 1s);
    CHECK(swarm.dials[closed_port] == 1);
    tick_after(swarm, clock, 2s);
    CHECK(swarm.dials[closed_port] == 2);
    // Failed twice: the back-off doubles.
    swarm.run_for(200ms);
    tick_after(swarm, clock, peer_policy::redial_delay(2) - 1s);
    CHECK(swarm.dials[closed_port] == 2);
    tick_after(swarm, clock, 2s);
    CHECK(swarm.dials[closed_port] == 3);
}

TEST_CASE(
    "a seed stops once no upload happened for its idle-seeding limit on the session's clock") {
    SwarmTorrent t(70000, 100000);
    test::ManualClock clock;
    Swarm swarm(t, clock);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    auto seed = swarm.add_peer(2, Script{});
    swarm.tell(seed);
    REQUIRE(swarm.run_until([&] { return completed(swarm); }));
    TorrentLimits limits;
    limits.seed_idle_limit = 600;
    swarm.job().set_limits(limits);

    tick_after(swarm, clock, 599s);
    CHECK(swarm.seeding());
    tick_after(swarm, clock, 2s);
    CHECK(swarm.status().state == TorrentState::paused);
}

TEST_CASE(
    "a seed found complete at start counts its idle-seeding limit from then, not from the "
    "clock's epoch") {
    SwarmTorrent t(70000, 100000);
    test::ManualClock clock;  // a day past the steady clock's epoch
    Swarm swarm(t, clock, false);
    t.write_to(swarm.dir());
    swarm.job().start();
    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    TorrentLimits limits;
    limits.seed_idle_limit = 600;
    swarm.job().set_limits(limits);

    // Seeding starts when the completion check returns from the disk pool, at the first or the
    // second reading of the clock below; idle time counts from there either way.
    tick_after(swarm, clock, 1s);
    CHECK(swarm.seeding());
    swarm.run_for(1s);
    tick_after(swarm, clock, 598s);
    CHECK(swarm.seeding());
    tick_after(swarm, clock, 100s);
    CHECK(swarm.status().state == TorrentState::paused);
}

TEST_CASE("added, done and activity dates come from the session's clock") {
    SwarmTorrent t(70000, 100000);
    test::ManualClock clock;
    clock.advance(std::chrono::hours(24 * 365));  // a year ahead of the real clock
    Swarm swarm(t, clock);
    CHECK(swarm.status().added_at == clock.unix_seconds());
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    clock.advance(std::chrono::hours(1));
    auto seed = swarm.add_peer(2, Script{});
    swarm.tell(seed);
    REQUIRE(swarm.run_until([&] { return completed(swarm); }));
    CHECK(swarm.status().done_at == clock.unix_seconds());
    clock.advance(5s);
    swarm.job().tick();  // the payload moved since the last tick
    CHECK(swarm.status().activity_at == clock.unix_seconds());
}

TEST_CASE("a peer that delivers nothing for request_timeout is snubbed and loses its requests") {
    SwarmTorrent t(300000, 350000);  // 20 pieces, 40 blocks: more than one peer's pipeline
    test::ManualClock clock;
    Swarm swarm(t, clock);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    Script stall;
    stall.answer = false;
    auto stalled = swarm.add_peer(2, stall);
    swarm.tell(stalled);
    REQUIRE(swarm.run_until([&] { return !swarm.peer(stalled).requests.empty(); }));
    swarm.run_for(200ms);  // its whole first batch is out
    auto held = swarm.peer(stalled).requests.size();
    REQUIRE(held > 1);

    TorrentTuning tuning;
    tick_after(swarm, clock, tuning.request_timeout - 1s);
    auto before = swarm.peer_status(stalled);
    REQUIRE(before);
    CHECK(before->flags.find('s') == std::string::npos);
    tick_after(swarm, clock, 2s);
    auto after = swarm.peer_status(stalled);
    REQUIRE(after);
    CHECK(after->flags.find('s') != std::string::npos);

    // Its blocks are free again: a fast peer is asked for them as for any other, so at most the
    // one block the snubbed peer was asked for since races (and is cancelled there).
    auto fast = swarm.add_peer(3, Script{});
    swarm.tell(fast);
    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    swarm.run_for(200ms);
    CHECK(swarm.peer(stalled).cancels.size() <= 1);
    CHECK(as_set(swarm.peer(fast).requests) == t.all_blocks());
    CHECK(t.on_disk(swarm.dir()));
}

TEST_CASE("a connected peer that sends nothing for inactivity_timeout is disconnected") {
    SwarmTorrent t(70000, 100000);
    test::ManualClock clock;
    Swarm swarm(t, clock);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    Script silent;
    silent.seed = false;  // has nothing: no requests, so no snub either
    auto quiet = swarm.add_peer(2, silent);
    swarm.tell(quiet);
    REQUIRE(swarm.run_until([&] { return swarm.peer_status(quiet).has_value(); }, 10s));

    TorrentTuning tuning;
    tick_after(swarm, clock, tuning.inactivity_timeout - 1s);
    CHECK_FALSE(swarm.peer(quiet).eof);
    CHECK(swarm.peer_status(quiet).has_value());
    tick_after(swarm, clock, 2s);
    CHECK(swarm.run_until([&] { return swarm.peer(quiet).eof; }, 5s));
    CHECK_FALSE(swarm.peer_status(quiet).has_value());
}

TEST_CASE("rate limiters exist only while peers may run; a limit set while paused still holds") {
    SwarmTorrent t(70000, 100000);
    Swarm swarm(t);
    REQUIRE(swarm.run_until([&] { return swarm.downloading(); }));
    CHECK_FALSE(swarm.job().holds_rate_limiters());  // no peer yet
    swarm.job().pause();
    TorrentLimits limits;
    limits.download_rate_limit = 64 * 1024;
    swarm.job().set_limits(limits);
    CHECK_FALSE(swarm.job().holds_rate_limiters());

    swarm.job().resume();
    auto seed = swarm.add_peer(2, Script{});
    swarm.tell(seed);
    auto started = Clock::now();
    REQUIRE(swarm.run_until([&] { return swarm.job().peer_count() > 0; }));
    CHECK(swarm.job().holds_rate_limiters());
    REQUIRE(swarm.run_until([&] { return swarm.seeding(); }));
    // 170,000 bytes at 64 KiB/s with a burst of a tenth of a second: well over a second (an
    // unlimited download of it takes milliseconds).
    CHECK(Clock::now() - started > 1500ms);
    CHECK(t.on_disk(swarm.dir()));
    swarm.job().pause();
    CHECK_FALSE(swarm.job().holds_rate_limiters());
}
