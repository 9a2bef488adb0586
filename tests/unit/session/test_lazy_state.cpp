// A paused torrent keeps only its have bits (its picker's swarm state and its storage's file
// state are given back or never built): status, resume data and a later resume must not notice.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <chrono>
#include <string>

#include "tests/unit/session/session_fixture.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;

using test::run_for;
using test::shut_down;
using test::status_of;
using test::test_settings;

namespace {

constexpr std::int64_t kPieceLength = 16384;

// Runs the loop until the torrent is in `state` (bounded: a loaded machine gets 20 s).
bool wait_for_state(asio::io_context& io, const Session& session, const Sha1Hash& id,
                    TorrentState state) {
    for (int i = 0; i < 400; ++i) {
        if (status_of(session, id).state == state) return true;
        run_for(io, 50ms);
    }
    return false;
}

std::string saved_have(asio::io_context& io, Session& session, const Sha1Hash& id) {
    std::string have = "none";
    session.save_resume_data(id, [&](ResumeData rd) { have = rd.have; });
    for (int i = 0; i < 200 && have == "none"; ++i) run_for(io, 50ms);
    return have;
}

}  // namespace

TEST_CASE("pause and resume with half the data: progress and resume data stay right") {
    test::TempDir dir;
    auto t = test::make_torrent({{"half.bin", 4 * kPieceLength}}, kPieceLength, 77);
    // Pieces 0 and 1 on disk, 2 and 3 not yet downloaded (zeros).
    std::string content(t.content.begin(), t.content.end());
    std::fill(content.begin() + 2 * kPieceLength, content.end(), '\0');
    test::write_file(dir.path() / "half.bin", content);

    asio::io_context io;
    Session session(io, test_settings(dir));
    auto id = session.add_torrent(t.meta, {}).id;
    REQUIRE(wait_for_state(io, session, id, TorrentState::downloading));
    CHECK(status_of(session, id).progress == doctest::Approx(0.5));

    session.pause(id);
    REQUIRE(wait_for_state(io, session, id, TorrentState::paused));
    auto paused = status_of(session, id);
    CHECK(paused.progress == doctest::Approx(0.5));
    CHECK(paused.have_bytes == 2 * kPieceLength);
    CHECK(saved_have(io, session, id) == "1100");

    // The rest arrives on disk while paused; resuming keeps the two pieces it had and, after a
    // verify, finds all four: the picker built again from the have bits still works.
    test::write_file(dir.path() / "half.bin", std::string(t.content.begin(), t.content.end()));
    session.resume(id);
    REQUIRE(wait_for_state(io, session, id, TorrentState::downloading));
    CHECK(status_of(session, id).progress == doctest::Approx(0.5));
    session.verify(id);
    REQUIRE(wait_for_state(io, session, id, TorrentState::seeding));
    CHECK(status_of(session, id).progress == doctest::Approx(1.0));
    CHECK(saved_have(io, session, id) == "1111");
    shut_down(io, session);
}
