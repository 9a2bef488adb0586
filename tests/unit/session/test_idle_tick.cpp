// Thousands of paused torrents must cost nothing each second: the Session ticks only torrents
// with work (active, connected, checking or still showing a rate), and says how many it ticked.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/session/session_fixture.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;

using test::make_job;
using test::run_for;
using test::shut_down;
using test::status_of;
using test::test_settings;

TEST_CASE("paused torrents are not ticked; a resumed one is, and stops being once paused") {
    test::TempDir dir;
    asio::io_context io;
    Session session(io, test_settings(dir));

    AddTorrentParams paused;
    paused.paused = true;
    for (int i = 0; i < 20; ++i)
        session.add_torrent(make_job("idle-" + std::to_string(i), 100 + i).meta, paused);
    auto running = make_job("running", 7);
    session.add_torrent(running.meta, AddTorrentParams{});
    run_for(io, 2500ms);
    CHECK(session.stats().torrents == 21);
    CHECK(session.stats().awake_torrents == 1);

    session.pause(running.meta.info_hash);
    run_for(io, 2500ms);
    CHECK(session.stats().awake_torrents == 0);

    session.resume(sha1(std::string("idle-3")));
    run_for(io, 2500ms);
    CHECK(session.stats().awake_torrents == 1);

    bool done = false;
    session.shutdown([&] { done = true; });
    for (int i = 0; i < 200 && !done; ++i) run_for(io, 50ms);
    CHECK(done);
}

TEST_CASE("stats events stay right for idle torrents: totals, a pause, new labels") {
    test::TempDir dir;
    asio::io_context io;
    Session session(io, test_settings(dir));
    std::vector<StatsEvent> reports;
    auto sub = session.add_event_listener([&](const SessionEvent& e) {
        if (auto* s = e.get<StatsEvent>()) reports.push_back(*s);
    });
    auto reported = [&](const Sha1Hash& id) -> const TorrentStatus* {
        for (auto it = reports.rbegin(); it != reports.rend(); ++it)
            for (const auto& t : it->torrents)
                if (t.id == id) return &t;
        return nullptr;
    };

    AddTorrentParams paused;
    paused.paused = true;
    for (int i = 0; i < 5; ++i)
        session.add_torrent(make_job("idle-" + std::to_string(i), 100 + i).meta, paused);
    auto running = make_job("running", 7);
    session.add_torrent(running.meta, AddTorrentParams{});
    run_for(io, 2500ms);
    REQUIRE_FALSE(reports.empty());
    CHECK(reports.back().session.torrents == 6);
    CHECK(reports.back().session.by_state["paused"] == 5);
    REQUIRE(reported(running.meta.info_hash) != nullptr);
    CHECK(reported(running.meta.info_hash)->state != TorrentState::paused);

    session.pause(running.meta.info_hash);
    run_for(io, 2500ms);
    CHECK(reports.back().session.by_state["paused"] == 6);
    CHECK(reported(running.meta.info_hash)->state == TorrentState::paused);

    auto some = sha1(std::string("idle-2"));
    session.set_labels(some, {"tv"});
    run_for(io, 1500ms);
    REQUIRE(reported(some) != nullptr);
    CHECK(reported(some)->labels == std::vector<std::string>{"tv"});
    CHECK(reports.back().session.torrents == 6);

    bool done = false;
    session.shutdown([&] { done = true; });
    for (int i = 0; i < 200 && !done; ++i) run_for(io, 50ms);
    CHECK(done);
}

TEST_CASE("the tick looks only at awake torrents: asleep ones are not even visited") {
    test::TempDir dir;
    asio::io_context io;
    Session session(io, test_settings(dir));
    AddTorrentParams paused;
    paused.paused = true;
    for (int i = 0; i < 30; ++i)
        session.add_torrent(make_job("idle-" + std::to_string(i), 100 + i).meta, paused);
    auto running = make_job("running", 7);
    session.add_torrent(running.meta, AddTorrentParams{});
    run_for(io, 2500ms);  // the first tick sees all (just added), then only the running one
    CHECK(session.stats().tick_visits == 1);

    auto some = sha1(std::string("idle-4"));
    session.set_labels(some, {"tv"});  // woken: looked at once, then asleep again
    run_for(io, 1100ms);
    session.pause(running.meta.info_hash);
    run_for(io, 2500ms);
    CHECK(session.stats().tick_visits == 0);
    CHECK(session.stats().torrents == 31);

    session.resume(some);
    run_for(io, 1500ms);
    CHECK(session.stats().tick_visits == 1);
    CHECK(session.stats().awake_torrents == 1);
    shut_down(io, session);
}

TEST_CASE("with every other torrent asleep, a queued torrent still gets the slot that frees") {
    test::TempDir dir;
    asio::io_context io;
    auto settings = test_settings(dir);
    settings.max_active_downloads = 1;
    Session session(io, settings);
    AddTorrentParams paused;
    paused.paused = true;
    for (int i = 0; i < 10; ++i)
        session.add_torrent(make_job("idle-" + std::to_string(i), 100 + i).meta, paused);
    auto first = make_job("first", 7), second = make_job("second", 8), third = make_job("third", 9);
    session.add_torrent(first.meta, AddTorrentParams{});
    session.add_torrent(second.meta, AddTorrentParams{});
    session.add_torrent(third.meta, AddTorrentParams{});
    run_for(io, 2500ms);
    CHECK(status_of(session, first.meta.info_hash).state != TorrentState::queued);
    CHECK(status_of(session, second.meta.info_hash).state == TorrentState::queued);
    CHECK(status_of(session, third.meta.info_hash).state == TorrentState::queued);

    session.pause(first.meta.info_hash);  // its slot goes to the next in the queue
    run_for(io, 2500ms);
    CHECK(status_of(session, second.meta.info_hash).state != TorrentState::queued);
    CHECK(status_of(session, third.meta.info_hash).state == TorrentState::queued);

    session.remove(second.meta.info_hash, false, nullptr);  // so does a removed one's
    run_for(io, 2500ms);
    CHECK(status_of(session, third.meta.info_hash).state != TorrentState::queued);
    CHECK(session.stats().by_state["queued"] == 0);
    shut_down(io, session);
}

TEST_CASE("stats totals of asleep torrents follow a removal and a resume") {
    test::TempDir dir;
    asio::io_context io;
    Session session(io, test_settings(dir));
    std::vector<StatsEvent> reports;
    auto sub = session.add_event_listener([&](const SessionEvent& e) {
        if (auto* s = e.get<StatsEvent>()) reports.push_back(*s);
    });
    AddTorrentParams paused;
    paused.paused = true;
    for (int i = 0; i < 5; ++i)
        session.add_torrent(make_job("idle-" + std::to_string(i), 100 + i).meta, paused);
    run_for(io, 2500ms);
    REQUIRE_FALSE(reports.empty());
    CHECK(reports.back().session.torrents == 5);
    CHECK(reports.back().session.by_state["paused"] == 5);

    session.remove(sha1(std::string("idle-1")), false, nullptr);
    session.resume(sha1(std::string("idle-2")));
    run_for(io, 2500ms);
    CHECK(reports.back().session.torrents == 4);
    CHECK(reports.back().session.by_state["paused"] == 3);
    CHECK(reports.back().session.by_state.count("queued") == 0);
    auto stats = session.stats();  // summed from the asleep totals: the same as over list()
    std::map<std::string, int> listed;
    for (const auto& s : session.list()) ++listed[to_string(s.state)];
    CHECK(stats.torrents == 4);
    CHECK(stats.by_state == listed);
    shut_down(io, session);
}
