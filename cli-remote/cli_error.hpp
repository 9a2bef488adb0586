#pragma once
// An error that ends btctl with a message on stderr and a specific exit code.
#include <stdexcept>
#include <string>

namespace btd::btctl {

// Named like the enum constants they stand for (std::errc style); ints because they are exit codes.
// NOLINTBEGIN(readability-identifier-naming)
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;      // the daemon reported an error, or a local I/O problem
inline constexpr int usage = 2;        // bad arguments, unknown or ambiguous torrent id
inline constexpr int unreachable = 3;  // daemon not running / not reachable
inline constexpr int auth = 4;         // daemon refused our secret
}  // namespace exit_code
// NOLINTEND(readability-identifier-naming)

class CliError : public std::runtime_error {
  public:
    CliError(int exit_code, const std::string& message)
        : std::runtime_error(message), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

  private:
    int exit_code_;
};

inline CliError usage_error(const std::string& message) {
    return CliError(exit_code::usage, message);
}

}  // namespace btd::btctl
