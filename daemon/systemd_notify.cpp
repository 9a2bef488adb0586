#include "daemon/systemd_notify.hpp"

#include <spdlog/fmt/fmt.h>

#ifdef BTD_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace btd::daemon {

namespace {

void notify(const std::string& message) {
#ifdef BTD_HAVE_LIBSYSTEMD
    ::sd_notify(0, message.c_str());
#else
    (void)message;
#endif
}

}  // namespace

void notify_ready() {
    notify("READY=1");
}
void notify_status(const std::string& status) {
    notify("STATUS=" + status);
}
void notify_reloading() {
    notify("RELOADING=1");
}
void notify_stopping() {
    notify("STOPPING=1");
}

std::string status_summary(const SessionStats& s) {
    auto count = [&](const char* state) {
        auto it = s.by_state.find(state);
        return it == s.by_state.end() ? 0 : it->second;
    };
    constexpr double kMib = 1024.0 * 1024.0;
    std::string out = fmt::format("{} torrent{}", s.torrents, s.torrents == 1 ? "" : "s");
    for (const char* state : {"downloading", "seeding", "checking", "paused", "error"})
        if (int n = count(state)) out += fmt::format(", {} {}", n, state);
    out += fmt::format(", {:.1f} MiB/s down, {:.1f} MiB/s up",
                       static_cast<double>(s.download_rate) / kMib,
                       static_cast<double>(s.upload_rate) / kMib);
    return out;
}

}  // namespace btd::daemon
