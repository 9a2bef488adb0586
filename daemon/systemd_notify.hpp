#pragma once
// Readiness and status for systemd (Type=notify). Every call is a no-op when NOTIFY_SOCKET is
// unset (not started by systemd) or btd was built without libsystemd.
#include <string>

#include "core/session/types.hpp"

namespace btd::daemon {

void notify_ready();                            // READY=1: the RPC server listens
void notify_status(const std::string& status);  // STATUS=...
void notify_reloading();                        // RELOADING=1 (then notify_ready() when done)
void notify_stopping();                         // STOPPING=1

// Short summary for STATUS=, e.g. "3 torrents, 1 downloading, 2.1 MiB/s down, 0.0 MiB/s up".
std::string status_summary(const SessionStats& stats);

}  // namespace btd::daemon
