// Session::for_each_status fills one status object for torrent after torrent: nothing of one
// torrent (its labels, name, download dir) may show on the next; test_torrent_status checks
// the reset of every member, the error included.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "tests/unit/session/session_fixture.hpp"

using namespace btd;
using namespace std::chrono_literals;
namespace asio = boost::asio;

using test::make_job;
using test::run_for;
using test::shut_down;

TEST_CASE("a status walk carries nothing of one torrent over to the next") {
    test::TempDir dir;
    asio::io_context io;
    Session session(io, test::test_settings(dir));

    // The walk goes in info-hash order: `loud` (error, labels, long name, own dir, sequential)
    // must come before `quiet` (none of these) for the test to mean anything.
    auto loud = make_job("loud-torrent-with-a-long-name-and-everything-set", 1);
    auto quiet = make_job("q", 2);
    loud.meta.info_hash.fill(0x11);
    quiet.meta.info_hash.fill(0x22);

    AddTorrentParams own_dir;
    own_dir.download_dir = dir.path() / "loud";
    own_dir.paused = true;
    session.add_torrent(loud.meta, own_dir);
    session.set_labels(loud.meta.info_hash, {"movies", "hd"});
    session.set_sequential(loud.meta.info_hash, true);
    AddTorrentParams paused;
    paused.paused = true;
    session.add_torrent(quiet.meta, paused);
    run_for(io, 200ms);

    std::vector<TorrentStatus> walked;
    session.for_each_status([&](const TorrentStatus& s) { walked.push_back(s); });
    REQUIRE(walked.size() == 2);
    const auto& first = walked[0];
    const auto& second = walked[1];
    REQUIRE(first.id == loud.meta.info_hash);
    CHECK(first.download_dir == dir.path() / "loud");
    CHECK(first.labels == std::vector<std::string>{"movies", "hd"});
    CHECK(first.sequential);

    CHECK(second.id == quiet.meta.info_hash);
    CHECK(second.name == "q");
    CHECK(second.error.empty());
    CHECK(second.labels.empty());
    CHECK(second.download_dir == dir.path());
    CHECK(!second.sequential);
    CHECK(second.state == TorrentState::paused);

    // list() is built on the walk and says the same.
    auto listed = session.list();
    REQUIRE(listed.size() == 2);
    CHECK(listed[1].error.empty());
    CHECK(listed[1].labels.empty());
    CHECK(listed[0].labels == first.labels);
    shut_down(io, session);
}

TEST_CASE("a status walk follows adds and removes, in info-hash order") {
    test::TempDir dir;
    asio::io_context io;
    Session session(io, test::test_settings(dir));
    auto a = make_job("a", 1), b = make_job("b", 2), c = make_job("c", 3);
    a.meta.info_hash.fill(0x11);
    b.meta.info_hash.fill(0x22);
    c.meta.info_hash.fill(0x33);
    AddTorrentParams paused;
    paused.paused = true;
    auto walked_names = [&] {
        std::vector<std::string> names;
        session.for_each_status([&](const TorrentStatus& s) { names.push_back(s.name); });
        return names;
    };
    session.add_torrent(b.meta, paused);
    session.add_torrent(a.meta, paused);
    CHECK(walked_names() == std::vector<std::string>{"a", "b"});
    session.remove(a.meta.info_hash, false);
    session.add_torrent(c.meta, paused);  // as many torrents as at the last walk, another one
    CHECK(walked_names() == std::vector<std::string>{"b", "c"});
    session.remove(c.meta.info_hash, false);
    CHECK(walked_names() == std::vector<std::string>{"b"});
    run_for(io, 200ms);  // the removed one's disk work is over: it may come back
    session.add_torrent(a.meta, paused);
    CHECK(walked_names() == std::vector<std::string>{"a", "b"});
    CHECK(session.list().size() == 2);
    shut_down(io, session);
}
