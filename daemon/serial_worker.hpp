#pragma once
// One background thread that runs tasks in the order they were posted. The daemon writes its
// state files here, so the network thread (and with it the RPC server) never waits on fsync, and
// writes to one file can never be reordered.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace btd::daemon {

class SerialWorker {
  public:
    // `on_idle` runs on the worker thread each time the queue runs empty after a task (before
    // drain() returns): the place to finish a batch, e.g. one directory fsync for many writes.
    explicit SerialWorker(std::function<void()> on_idle = {});
    ~SerialWorker();  // runs every task still queued, then joins
    SerialWorker(const SerialWorker&) = delete;
    SerialWorker& operator=(const SerialWorker&) = delete;

    // Thread-safe. A task (or on_idle) that throws is logged and the worker goes on.
    void post(std::function<void()> task);
    // Blocks until every task posted before the call has run. Never call it on the network
    // thread while tasks may be slow: post a task that reports back instead.
    void drain();
    // Drops the tasks not yet started (the running one finishes); returns how many. For an exit
    // that cannot wait any longer.
    std::size_t discard_pending();

  private:
    void run();
    void run_guarded(const std::function<void()>& f);

    std::function<void()> on_idle_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<std::function<void()>> tasks_;
    bool busy_ = false;
    bool stopping_ = false;
    std::thread thread_;  // last: starts once the members above exist
};

}  // namespace btd::daemon
