#include "daemon/download_mode.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>

#include "core/session/session.hpp"

namespace btd {

int run_download_mode(const DownloadModeOptions& options) {
    Metainfo meta;
    try {
        meta = load_metainfo_file(options.torrent_file);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "btd: %s\n", e.what());
        return 2;
    }
    boost::asio::io_context io;
    SessionSettings settings;
    settings.listen_port = options.listen_port;
    settings.default_download_dir = options.download_dir;
    settings.download_rate_limit = options.download_rate_limit;
    settings.upload_rate_limit = options.upload_rate_limit;
    Session session(io, settings);

    int exit_code = 1;
    bool finishing = false;
    bool completed = false;
    auto finish = [&](int code) {
        if (finishing) return;
        finishing = true;
        exit_code = code;
        session.shutdown([&io] { io.stop(); });
    };

    Sha1Hash id{};
    // finish() shuts the session down from inside a listener: safe, as events are delivered
    // after the engine's operation is over (session.hpp).
    auto subscription = session.add_event_listener([&](const SessionEvent& e) {
        if (e.id != id) return;
        if (e.get<CompletedEvent>()) {
            completed = true;
            if (options.seed)
                spdlog::info("{}: complete, seeding until stopped", meta.name);
            else
                finish(0);
        }
        if (auto* error = e.get<ErrorEvent>()) {
            std::fprintf(stderr, "btd: %s\n", error->message.c_str());
            finish(1);
        }
    });
    try {
        id = session.add_torrent(meta, {}).id;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "btd: %s\n", e.what());
        return 1;
    }

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) finish(options.seed && completed ? 0 : 130);
    });
    boost::asio::steady_timer progress(io);
    std::function<void()> report = [&] {
        progress.expires_after(std::chrono::seconds(5));
        progress.async_wait([&](const boost::system::error_code& ec) {
            if (ec || finishing) return;
            auto s = session.details(id).status;
            spdlog::info("{}: {} {:.1f}% {:.1f} MiB/s, {} peers", s.name, to_string(s.state),
                         s.progress * 100, static_cast<double>(s.download_rate) / 1048576.0,
                         s.peers);
            report();
        });
    };
    report();
    boost::asio::steady_timer deadline(io);
    if (options.timeout_s) {
        deadline.expires_after(std::chrono::seconds(options.timeout_s));
        deadline.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            std::fprintf(stderr, "btd: download did not finish within %u s\n", options.timeout_s);
            finish(3);
        });
    }
    io.run();
    signals.cancel();
    return exit_code;
}

}  // namespace btd
