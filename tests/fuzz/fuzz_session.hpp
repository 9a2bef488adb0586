#pragma once
// A real Session in a temporary dir, for the harnesses that drive RPC handlers (fuzz_rpc,
// fuzz_transmission): loopback only, one disk thread, and jobs removed between inputs.
#include <unistd.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/session/session.hpp"

namespace btd::fuzz {

inline constexpr auto kReplyWait = std::chrono::seconds(2);

struct FuzzSession {
    boost::asio::io_context io;
    std::filesystem::path dir;
    std::unique_ptr<Session> session;

    explicit FuzzSession(const std::string& name) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (name + "-XXXXXX")).string();
        if (!::mkdtemp(pattern.data())) std::abort();
        dir = pattern;
        SessionSettings settings;
        settings.listen_port = 0;
        settings.listen_address = "127.0.0.1";
        settings.default_download_dir = dir / "downloads";
        settings.disk_threads = 1;
        session = std::make_unique<Session>(io, settings);
    }

    // Runs the io_context until `done()` or kReplyWait.
    template <class Done>
    void run_until(Done done) {
        auto deadline = std::chrono::steady_clock::now() + kReplyWait;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io.restart();
            io.run_for(std::chrono::milliseconds(1));
        }
    }

    void remove_all_jobs() {
        std::size_t pending = 0;
        for (const auto& status : session->list()) {
            ++pending;
            session->remove(status.id, true, [&pending] { --pending; });
        }
        run_until([&pending] { return pending == 0; });
    }
};

}  // namespace btd::fuzz
