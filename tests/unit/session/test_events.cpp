// Session events against a real Session on 127.0.0.1 (no trackers): each kind carries its typed
// fields, listeners that call back into the Session never run inside a Session call, and events
// arrive in the order they were raised.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../storage/storage_fixture.hpp"
#include "core/peer/wire.hpp"
#include "core/session/session.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kPieceLength = 16384;  // one block per piece

template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 20s) {
    auto deadline = Clock::now() + limit;
    while (!pred() && Clock::now() < deadline) {
        io.restart();
        io.run_for(5ms);
    }
    return pred();
}

// A two-piece torrent with its own name and info-hash.
test::TestTorrent make_job(const std::string& name, std::uint32_t seed) {
    auto t = test::make_torrent({{name + ".bin", 2 * kPieceLength}}, kPieceLength, seed);
    t.meta.name = name;
    t.meta.info_hash = sha1(name);
    return t;
}

AddTorrentParams paused() {
    AddTorrentParams p;
    p.paused = true;
    return p;
}

void write_data(const test::TestTorrent& t, const std::filesystem::path& dir) {
    test::write_file(dir / t.meta.files[0].path, t.file_bytes(0));
}

// One line per event, e.g. "state_changed checking->downloading" or "piece_verified 1".
std::string describe(const SessionEvent& e) {
    std::string out = event_name(e);
    if (auto* s = e.get<StateChangedEvent>())
        out += std::string(" ") + to_string(s->old_state) + "->" + to_string(s->new_state);
    if (auto* a = e.get<AddedEvent>()) out += " " + a->name;
    if (auto* r = e.get<RemovedEvent>()) out += " " + r->name;
    if (auto* v = e.get<PieceVerifiedEvent>()) out += " " + std::to_string(v->piece);
    if (auto* f = e.get<PieceFailedEvent>()) out += " " + std::to_string(f->piece);
    if (auto* err = e.get<ErrorEvent>()) out += std::string(" ") + to_string(err->code);
    return out;
}

struct SessionFixture {
    test::TempDir dir;
    asio::io_context io;
    std::unique_ptr<Session> session;
    std::vector<SessionEvent> events;  // every event but stats, in delivery order
    EventSubscription recorder;

    SessionFixture() {
        SessionSettings s;
        s.listen_port = 0;
        s.listen_address = "127.0.0.1";
        s.default_download_dir = dir.path();
        s.disk_threads = 1;
        session = std::make_unique<Session>(io, s);
        recorder = session->add_event_listener([this](const SessionEvent& e) {
            if (!e.get<StatsEvent>()) events.push_back(e);
        });
    }
    std::vector<std::string> lines(const Sha1Hash& id) const {
        std::vector<std::string> out;
        for (auto& e : events)
            if (e.id == id) out.push_back(describe(e));
        return out;
    }
    bool seen(const Sha1Hash& id, const std::string& line) const {
        auto l = lines(id);
        return std::find(l.begin(), l.end(), line) != l.end();
    }
};

// A peer that has every piece: connects to the session, unchokes it and answers its requests;
// the pieces in `corrupt_once` are sent with a wrong byte the first time they are asked for.
class FakeSeeder {
  public:
    FakeSeeder(asio::io_context& io, std::uint16_t port, const test::TestTorrent& t,
               std::set<int> corrupt_once = {})
        : socket_(io), torrent_(t), corrupt_once_(std::move(corrupt_once)) {
        socket_.connect({asio::ip::make_address("127.0.0.1"), port});
        PeerId id{};
        id.fill('s');
        write(wire::encode_handshake(wire::make_handshake(t.meta.info_hash, id)));
        asio::async_read(socket_, asio::buffer(handshake_),
                         [this](const boost::system::error_code& ec, std::size_t) {
                             if (ec) return;
                             std::string out;
                             wire::append_bitfield(out, std::string(1, char(0xC0)));  // 2 pieces
                             wire::append_simple(out, wire::MsgType::unchoke);
                             write(out);
                             read_frame();
                         });
    }

  private:
    // The session may have closed the connection (an error, both sides seeds): nothing to do.
    void write(const std::string& bytes) {
        boost::system::error_code ignored;
        asio::write(socket_, asio::buffer(bytes), ignored);
    }

    void read_frame() {
        asio::async_read(socket_, asio::buffer(length_),
                         [this](const boost::system::error_code& ec, std::size_t) {
                             if (ec) return;
                             body_.resize(wire::read_u32(length_.data()));
                             asio::async_read(
                                 socket_, asio::buffer(body_),
                                 [this](const boost::system::error_code& ec2, std::size_t) {
                                     if (ec2) return;
                                     if (!body_.empty()) on_message();
                                     read_frame();
                                 });
                         });
    }

    void on_message() {
        auto m = wire::decode_message(body_);
        if (m.type != wire::MsgType::request) return;
        auto piece = torrent_.piece(static_cast<int>(m.piece));
        std::string block(piece.begin() + m.offset, piece.begin() + m.offset + m.length);
        if (corrupt_once_.erase(static_cast<int>(m.piece))) block[0] ^= 0x5a;
        std::string out;
        wire::append_piece_header(out, m.piece, m.offset, m.length);
        write(out + block);
    }

    tcp::socket socket_;
    const test::TestTorrent& torrent_;
    std::set<int> corrupt_once_;
    std::array<char, wire::kHandshakeSize> handshake_{};
    std::array<char, 4> length_{};
    std::string body_;
};

}  // namespace

TEST_CASE("each event kind carries its typed fields, in the order the engine raised them") {
    SessionFixture f;
    auto job = make_job("typed", 1);
    auto id = f.session->add_torrent(job.meta, {}).id;
    REQUIRE(f.events.size() >= 2);  // delivered before add_torrent returned
    auto* added = f.events[0].get<AddedEvent>();
    REQUIRE(added);
    CHECK(added->name == "typed");
    CHECK(f.events[0].id == id);
    REQUIRE(run_until(f.io, [&] { return f.seen(id, "state_changed checking->downloading"); }));

    // Piece 0 arrives corrupted once, then right; piece 1 right: failed 0, then both verified.
    FakeSeeder seeder(f.io, f.session->stats().listen_port, job, {0});
    REQUIRE(run_until(f.io, [&] { return f.seen(id, "completed"); }));
    auto lines = f.lines(id);
    auto at = [&](const std::string& line) {
        return std::find(lines.begin(), lines.end(), line) - lines.begin();
    };
    CHECK(lines[0] == "added typed");
    CHECK(lines[1] == "state_changed checking->checking");  // a new job counts as checking
    CHECK(at("piece_failed 0") < at("piece_verified 0"));
    CHECK(at("piece_verified 1") < at("completed"));
    CHECK(at("piece_verified 0") < at("completed"));
    REQUIRE(at("completed") + 1 < static_cast<std::ptrdiff_t>(lines.size()));
    CHECK(lines[at("completed") + 1] == "resume_data_changed");

    f.session->pause(id);
    lines = f.lines(id);
    CHECK(lines[lines.size() - 2] == "state_changed seeding->paused");
    CHECK(lines.back() == "resume_data_changed");

    f.session->remove(id, false);
    auto* removed = f.events.back().get<RemovedEvent>();
    REQUIRE(removed);
    CHECK(removed->name == "typed");
}

TEST_CASE("a write failure is an error event with its code and a message") {
    SessionFixture f;
    auto job = make_job("unwritable", 2);
    // The file's path is a directory: checking finds nothing, writing the first piece fails.
    std::filesystem::create_directories(f.dir.path() / job.meta.files[0].path / "in-the-way");
    auto id = f.session->add_torrent(job.meta, {}).id;
    REQUIRE(run_until(f.io, [&] { return f.seen(id, "state_changed checking->downloading"); }));
    FakeSeeder seeder(f.io, f.session->stats().listen_port, job);
    REQUIRE(run_until(f.io, [&] { return f.seen(id, "error write_failed"); }));
    for (auto& e : f.events) {
        if (auto* err = e.get<ErrorEvent>()) {
            CHECK(err->message == f.session->details(id).status.error);
            CHECK(!err->message.empty());
        }
    }
    CHECK(f.session->details(id).status.state == TorrentState::error);
}

TEST_CASE("stats events: session totals each second, and only the torrents that moved") {
    SessionFixture f;
    auto job = make_job("stats", 3);
    auto id = f.session->add_torrent(job.meta, paused()).id;
    std::vector<StatsEvent> stats;
    auto sub = f.session->add_event_listener([&](const SessionEvent& e) {
        if (auto* s = e.get<StatsEvent>()) {
            CHECK(e.id == Sha1Hash{});
            stats.push_back(*s);
        }
    });
    REQUIRE(run_until(
        f.io, [&] { return stats.size() >= 3; }, 10s));
    CHECK(stats[0].session.torrents == 1);
    CHECK(stats[0].session.by_state["paused"] == 1);
    REQUIRE(stats[0].torrents.size() == 1);  // the first report has every torrent
    CHECK(stats[0].torrents[0].id == id);
    CHECK(stats[2].torrents.empty());  // a paused job does not move
    f.session->resume(id);             // now it does (state)
    auto before = stats.size();
    REQUIRE(run_until(
        f.io, [&] { return stats.size() > before; }, 10s));
    REQUIRE(stats.back().torrents.size() == 1);
    CHECK(stats.back().torrents[0].state != TorrentState::paused);
}

TEST_CASE("a listener that removes the job on its `added` event runs after add_torrent's work") {
    SessionFixture f;
    auto job = make_job("gone", 4);
    bool removed_done = false;
    auto sub = f.session->add_event_listener([&](const SessionEvent& e) {
        // Delivered inline, this would retire the job before add_torrent started it.
        if (e.get<AddedEvent>()) f.session->remove(e.id, false, [&] { removed_done = true; });
    });
    auto id = f.session->add_torrent(job.meta, {}).id;
    CHECK_FALSE(f.session->contains(id));
    CHECK(f.lines(id) == std::vector<std::string>{"added gone", "state_changed checking->checking",
                                                  "removed gone"});
    CHECK(run_until(f.io, [&] { return removed_done; }));
}

TEST_CASE("a call made by a listener delivers its events after the listener returns") {
    SessionFixture f;
    auto first = make_job("first", 5), second = make_job("second", 6);
    int call_depth = 0;  // Session calls made by the listener below, in progress
    std::vector<int> depth_at_delivery;
    auto depth_probe = f.session->add_event_listener(
        [&](const SessionEvent&) { depth_at_delivery.push_back(call_depth); });
    auto adder = f.session->add_event_listener([&](const SessionEvent& e) {
        auto* added = e.get<AddedEvent>();
        if (!added || added->name != "first") return;
        ++call_depth;
        f.session->add_torrent(second.meta, paused());
        f.session->pause(e.id);
        --call_depth;
    });
    auto id1 = f.session->add_torrent(first.meta, {}).id;
    auto id2 = second.meta.info_hash;

    for (int depth : depth_at_delivery) CHECK(depth == 0);
    std::vector<std::string> all;
    for (auto& e : f.events) all.push_back(to_hex(e.id).substr(0, 4) + " " + describe(e));
    auto h1 = to_hex(id1).substr(0, 4), h2 = to_hex(id2).substr(0, 4);
    // The first job's own operation completes (its check starts) before the listener's calls;
    // theirs follow in the order they were made.
    CHECK(all == std::vector<std::string>{
                     h1 + " added first",
                     h1 + " state_changed checking->checking",
                     h2 + " added second",
                     h2 + " state_changed checking->checking",
                     h1 + " state_changed checking->paused",
                     h1 + " resume_data_changed",
                 });
}

TEST_CASE("shutdown from a `completed` listener (btd --download) finishes cleanly") {
    SessionFixture f;
    auto job = make_job("done", 7);
    write_data(job, f.dir.path());
    bool stopped = false;
    int call_depth = 0;
    std::vector<int> depth_at_delivery;
    auto sub = f.session->add_event_listener([&](const SessionEvent& e) {
        depth_at_delivery.push_back(call_depth);
        if (!e.get<CompletedEvent>()) return;
        ++call_depth;
        f.session->shutdown([&] { stopped = true; });
        --call_depth;
    });
    auto id = f.session->add_torrent(job.meta, {}).id;
    REQUIRE(run_until(f.io, [&] { return stopped; }));
    for (int depth : depth_at_delivery) CHECK(depth == 0);
    auto lines = f.lines(id);
    CHECK(std::find(lines.begin(), lines.end(), "state_changed checking->seeding") <
          std::find(lines.begin(), lines.end(), "completed"));
    CHECK_THROWS_AS(f.session->add_torrent(make_job("late", 8).meta, {}), SessionError);
}

TEST_CASE("several listeners: each gets every event until its subscription ends") {
    SessionFixture f;
    std::vector<std::string> a, b;
    auto sub_a = f.session->add_event_listener([&](const SessionEvent& e) {
        if (!e.get<StatsEvent>()) a.push_back(describe(e));
    });
    EventSubscription sub_b = f.session->add_event_listener([&](const SessionEvent& e) {
        if (e.get<StatsEvent>()) return;
        b.push_back(describe(e));
        sub_a.reset();  // cancelled mid-delivery: a sees nothing more, not even this event
    });
    auto job = make_job("many", 9);
    f.session->add_torrent(job.meta, paused());
    CHECK(a == std::vector<std::string>{"added many"});
    CHECK(b.size() >= 2);
    CHECK(b[0] == "added many");

    // A handle may outlive its session.
    f.session.reset();
    sub_b.reset();
}
