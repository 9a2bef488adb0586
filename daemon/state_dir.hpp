#pragma once
// The daemon's state dir: created private (0700) on first use and locked, so two daemons never
// write the same job list.
#include <filesystem>
#include <stdexcept>

namespace btd::daemon {

class StateDirError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// An exclusive flock on <state>/btd.lock, held while the object lives.
class StateDirLock {
  public:
    // Creates the dir if needed (mode 0700) and takes the lock; throws StateDirError when the
    // dir cannot be created or another process holds the lock.
    explicit StateDirLock(const std::filesystem::path& state_dir);
    ~StateDirLock();
    StateDirLock(const StateDirLock&) = delete;
    StateDirLock& operator=(const StateDirLock&) = delete;

  private:
    int fd_ = -1;
};

}  // namespace btd::daemon
