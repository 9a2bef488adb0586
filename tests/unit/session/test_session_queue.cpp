// The Session's download queue against its clock (core/util/engine_clock.hpp): a test::ManualClock
// moves time past queue_stalled_after without sleeping. The Session's own tick still runs once a
// real second; it reads the manual clock when it decides.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <chrono>

#include "../../support/manual_clock.hpp"
#include "tests/unit/session/session_fixture.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;

using test::make_job;
using test::run_for;
using test::shut_down;
using test::status_of;
using test::test_settings;

TEST_CASE(
    "a download without payload for queue_stalled_after on the session's clock is stalled and "
    "gives its slot to the next in the queue") {
    test::TempDir dir;
    asio::io_context io;
    test::ManualClock clock;
    auto settings = test_settings(dir);
    settings.max_active_downloads = 1;
    settings.queue_stalled_after = 600;
    Session session(io, settings, clock);
    auto first = make_job("first", 1);
    auto second = make_job("second", 2);
    session.add_torrent(first.meta, AddTorrentParams{});
    session.add_torrent(second.meta, AddTorrentParams{});
    const auto a = first.meta.info_hash;
    const auto b = second.meta.info_hash;
    auto state = [&](const Sha1Hash& id) { return status_of(session, id).state; };
    auto wait_for = [&](auto done) {  // bounded: 10 s of Session ticks
        for (int i = 0; i < 100 && !done(); ++i) run_for(io, 100ms);
        return done();
    };
    // Nothing on disk: both checked at once; no peer anywhere, so no payload.
    REQUIRE(wait_for(
        [&] { return state(a) == TorrentState::downloading && state(b) == TorrentState::queued; }));
    CHECK_FALSE(status_of(session, a).stalled);

    clock.advance(599s);
    run_for(io, 1500ms);  // a tick or more
    CHECK_FALSE(status_of(session, a).stalled);
    CHECK(state(b) == TorrentState::queued);

    clock.advance(2s);
    CHECK(wait_for([&] { return state(b) == TorrentState::downloading; }));
    CHECK(status_of(session, a).stalled);
    CHECK(state(a) == TorrentState::downloading);  // runs on, holds no slot
    CHECK_FALSE(status_of(session, b).stalled);    // its own clock started when it was let in

    shut_down(io, session);
}
