#include "core/storage/disk_pool.hpp"

#include <algorithm>
#include <thread>

namespace btd {

namespace {
unsigned resolve_threads(unsigned requested) {
    if (requested > 0) return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}
}  // namespace

DiskPool::DiskPool(unsigned threads)
    : threads_(resolve_threads(threads)), pool_(static_cast<std::size_t>(threads_)) {}

DiskPool::~DiskPool() {
    join();
}

void DiskPool::join() {
    std::call_once(joined_, [this] { pool_.join(); });
}

}  // namespace btd
