#pragma once
// The long-running daemon: restores the jobs of the state dir, serves JSON-RPC, keeps the state
// dir current, and reacts to signals (SIGTERM/SIGINT: save and exit 0; SIGHUP: reload config).
#include <filesystem>
#include <optional>

#include "daemon/config.hpp"

namespace btd::daemon {

struct DaemonOptions {
    std::optional<std::filesystem::path> config_file;
    ConfigValues cli_overrides;  // win over the config file, also after a reload
    Getenv getenv = process_getenv;
};

// Returns the process exit code: 0 after a clean stop, 1 on a runtime failure (port in use,
// state dir locked), 2 on a configuration error.
int run_daemon(const DaemonOptions& options);

}  // namespace btd::daemon
