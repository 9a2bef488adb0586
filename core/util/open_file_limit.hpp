#pragma once
// The process's limit on open descriptors (RLIMIT_NOFILE): read it, and raise the soft limit to
// the hard limit at start, so that peer connections, files and the RPC all fit. Any thread.
#include <optional>

namespace btd {

struct OpenFileLimit {
    long soft = 0;
    long hard = 0;
};

// The current limit; nullopt if it cannot be read (then nothing is derived from it).
std::optional<OpenFileLimit> open_file_limit();

// Raises the soft limit to the hard limit (capped at kMaxRaisedOpenFiles) when it is lower.
// Never throws; returns the limit in force afterwards (nullopt if it cannot be read).
std::optional<OpenFileLimit> raise_open_file_limit();

// An unlimited or huge hard limit is not worth taking whole: each descriptor costs kernel memory
// only when used, but select()-era code and tools choke on enormous numbers.
constexpr long kMaxRaisedOpenFiles = 1 << 20;

}  // namespace btd
