#pragma once
// What the Session tests that run a real Session on a private io_context share: settings on
// loopback with one disk thread, small jobs, a bounded loop runner and a clean shutdown.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>

#include "../storage/storage_fixture.hpp"
#include "core/session/session.hpp"

namespace btd::test {

inline constexpr std::int64_t kSessionPieceLength = 16384;

// A two-piece job whose name and info-hash come from `name`; `seed` picks its bytes.
inline TestTorrent make_job(const std::string& name, std::uint32_t seed) {
    auto t = make_torrent({{name + ".bin", 2 * kSessionPieceLength}}, kSessionPieceLength, seed);
    t.meta.name = name;
    t.meta.info_hash = sha1(name);
    return t;
}

// Runs the loop for a while (the Session's tick is once per second).
inline void run_for(boost::asio::io_context& io, std::chrono::milliseconds how_long) {
    io.restart();
    io.run_for(how_long);
}

inline SessionSettings test_settings(const TempDir& dir) {
    SessionSettings settings;
    settings.listen_port = 0;
    settings.listen_address = "127.0.0.1";
    settings.default_download_dir = dir.path();
    settings.disk_threads = 1;
    return settings;
}

inline TorrentStatus status_of(const Session& session, const Sha1Hash& id) {
    for (const auto& s : session.list())
        if (s.id == id) return s;
    FAIL("no such torrent");
    return {};
}

// Shuts the session down and runs the loop until it says so (bounded: 10 s).
inline void shut_down(boost::asio::io_context& io, Session& session) {
    bool done = false;
    session.shutdown([&] { done = true; });
    for (int i = 0; i < 200 && !done; ++i) run_for(io, std::chrono::milliseconds(50));
    CHECK(done);
}

}  // namespace btd::test
