#include "daemon/serial_worker.hpp"

#include <spdlog/spdlog.h>

namespace btd::daemon {

SerialWorker::SerialWorker(std::function<void()> on_idle)
    : on_idle_(std::move(on_idle)), thread_([this] { run(); }) {}

SerialWorker::~SerialWorker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void SerialWorker::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
}

void SerialWorker::drain() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return tasks_.empty() && !busy_; });
}

std::size_t SerialWorker::discard_pending() {
    std::lock_guard lock(mutex_);
    auto dropped = tasks_.size();
    tasks_.clear();
    return dropped;
}

void SerialWorker::run_guarded(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        spdlog::error("state dir: {}", e.what());
    }
}

void SerialWorker::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // stopping, and nothing left to do
        auto task = std::move(tasks_.front());
        tasks_.pop_front();
        busy_ = true;
        lock.unlock();
        run_guarded(task);
        lock.lock();
        if (tasks_.empty() && on_idle_) {
            // Still busy_: drain() waits for the batch to be finished, not just its tasks.
            lock.unlock();
            run_guarded(on_idle_);
            lock.lock();
        }
        if (!tasks_.empty()) continue;  // more arrived meanwhile: on_idle runs after them
        busy_ = false;
        idle_.notify_all();
    }
}

}  // namespace btd::daemon
