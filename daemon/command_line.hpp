#pragma once
// btd's command line (CLI11). The setting flags and their help come from the settings table
// (daemon/settings_table.hpp) and override the config file; `--download FILE` selects the
// one-shot foreground download mode (used by tests and benchmarks).
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/config.hpp"
#include "daemon/download_mode.hpp"

namespace btd::daemon {

class UsageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct CommandLine {
    enum class Mode { daemon, download, help, version };
    Mode mode = Mode::daemon;
    std::optional<std::filesystem::path> config_file;
    ConfigValues overrides;        // from flags; win over the config file
    DownloadModeOptions download;  // Mode::download only
};

// `args` excludes the program name. Throws UsageError with a message for the user.
CommandLine parse_command_line(const std::vector<std::string>& args);

// The --help text: usage lines, every flag with its help and default, notes.
std::string usage_text();

}  // namespace btd::daemon
