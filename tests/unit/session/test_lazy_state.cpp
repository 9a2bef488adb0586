// A paused torrent keeps only its have bits (its picker's swarm state and its storage's file
// state are given back or never built): status, resume data and a later resume must not notice.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <chrono>
#include <string>

#include "core/bencode/bencode.hpp"
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

// A real single-file .torrent of `t` (bencoded: its piece hashes in the info dictionary).
std::string torrent_file_of(const test::TestTorrent& t, const std::string& name) {
    using namespace bencode;
    std::string hashes;
    for (const auto& h : t.meta.piece_hashes) hashes += as_chars(h);
    Dict info{{"name", make_string(name)},
              {"piece length", make_int(t.meta.piece_length)},
              {"pieces", make_string(hashes)},
              {"length", make_int(t.meta.total_size)}};
    return encode(make_dict({{"info", make_dict(std::move(info))}}));
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

TEST_CASE("a paused torrent leaves its piece hashes in its .torrent and reads them back") {
    test::TempDir dir;
    auto t = test::make_torrent({{"lazy.bin", 4 * kPieceLength}}, kPieceLength, 78);
    auto torrent_bytes = torrent_file_of(t, "lazy.bin");
    auto meta = parse_metainfo(torrent_bytes);
    const auto raw_info = meta.raw_info;
    auto info_file = dir.path() / "lazy.torrent";
    test::write_file(info_file, torrent_bytes);
    test::write_file(dir.path() / "lazy.bin", std::string(t.content.begin(), t.content.end()));

    asio::io_context io;
    Session session(io, test_settings(dir));
    AddTorrentParams params;
    params.paused = true;
    params.info_file = info_file;
    auto id = session.add_torrent(meta, params).id;
    // The first check needs the hashes; once it is over, the paused torrent drops them.
    REQUIRE(wait_for_state(io, session, id, TorrentState::paused));
    run_for(io, 100ms);
    CHECK(session.metainfo(id).raw_info.empty());
    CHECK(session.metainfo(id).num_pieces() == 4);
    CHECK(status_of(session, id).progress == doctest::Approx(1.0));
    CHECK(saved_have(io, session, id) == "1111");

    // A check of the paused torrent reads them back, and drops them again afterwards.
    test::write_file(dir.path() / "lazy.bin",
                     std::string(t.content.begin(), t.content.end() - 1) + "x");
    session.verify(id);
    for (int i = 0; i < 400 && saved_have(io, session, id) != "1110"; ++i) run_for(io, 50ms);
    CHECK(saved_have(io, session, id) == "1110");
    REQUIRE(wait_for_state(io, session, id, TorrentState::paused));
    run_for(io, 100ms);
    CHECK(session.metainfo(id).raw_info.empty());

    // Running needs them (downloaded pieces are hashed, metadata requests answered).
    session.resume(id);
    REQUIRE(wait_for_state(io, session, id, TorrentState::downloading));
    for (int i = 0; i < 400 && session.metainfo(id).raw_info.empty(); ++i) run_for(io, 50ms);
    CHECK(session.metainfo(id).raw_info == raw_info);
    session.pause(id);
    REQUIRE(wait_for_state(io, session, id, TorrentState::paused));
    run_for(io, 100ms);
    CHECK(session.metainfo(id).raw_info.empty());
    shut_down(io, session);
}

TEST_CASE("an unreadable .torrent at resume: an error state, nothing lost, resume works later") {
    test::TempDir dir;
    auto t = test::make_torrent({{"gone.bin", 2 * kPieceLength}}, kPieceLength, 79);
    auto torrent_bytes = torrent_file_of(t, "gone.bin");
    auto info_file = dir.path() / "gone.torrent";
    test::write_file(info_file, torrent_bytes);
    test::write_file(dir.path() / "gone.bin", std::string(t.content.begin(), t.content.end()));

    asio::io_context io;
    Session session(io, test_settings(dir));
    AddTorrentParams params;
    params.paused = true;
    params.info_file = info_file;
    auto id = session.add_torrent(parse_metainfo(torrent_bytes), params).id;
    REQUIRE(wait_for_state(io, session, id, TorrentState::paused));
    run_for(io, 100ms);
    REQUIRE(session.metainfo(id).raw_info.empty());

    std::filesystem::remove(info_file);
    session.resume(id);
    REQUIRE(wait_for_state(io, session, id, TorrentState::error));
    auto failed = status_of(session, id);
    CHECK(failed.error.find("cannot read the piece hashes from") != std::string::npos);
    CHECK(failed.error.find("gone.torrent") != std::string::npos);
    CHECK(failed.progress == doctest::Approx(1.0));  // the have bits are kept

    // Another torrent's file in its place is refused the same way.
    auto other = test::make_torrent({{"other.bin", 2 * kPieceLength}}, kPieceLength, 80);
    test::write_file(info_file, torrent_file_of(other, "other.bin"));
    session.resume(id);
    run_for(io, 300ms);
    REQUIRE(wait_for_state(io, session, id, TorrentState::error));
    CHECK(status_of(session, id).error.find("another torrent") != std::string::npos);

    test::write_file(info_file, torrent_bytes);
    session.resume(id);
    REQUIRE(wait_for_state(io, session, id, TorrentState::seeding));
    CHECK(status_of(session, id).error.empty());
    CHECK(saved_have(io, session, id) == "11");
    shut_down(io, session);
}
