#include "daemon/atomic_batch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#include "daemon/atomic_file.hpp"

namespace btd::daemon {

namespace fs = std::filesystem;

namespace {

// Enough parallel fsyncs to fill a journal commit; more only adds threads.
constexpr std::size_t kSyncThreads = 8;

// 0 or an errno.
int fsync_path(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int rc = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return rc;
}

// fsyncs every temp file, several at once; returns one errno (or 0) per file.
std::vector<int> fsync_all(const std::vector<fs::path>& temps) {
    std::vector<int> errors(temps.size(), 0);
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (auto i = next++; i < temps.size(); i = next++) errors[i] = fsync_path(temps[i]);
    };
    std::vector<std::thread> threads;
    auto extra = std::min(kSyncThreads, temps.size()) - (temps.empty() ? 0 : 1);
    try {
        for (std::size_t i = 0; i < extra; ++i) threads.emplace_back(work);
    } catch (const std::system_error&) {
        // No more threads: this thread does the rest.
    }
    work();
    for (auto& t : threads) t.join();
    return errors;
}

}  // namespace

AtomicBatch::~AtomicBatch() {
    for (auto& file : staged_) ::unlink(temp_path_for(file).c_str());
}

void AtomicBatch::stage(const fs::path& file, std::string_view bytes, mode_t mode) {
    write_temp_file(temp_path_for(file), bytes, mode, false);
    staged_.insert(file);
}

void AtomicBatch::discard(const fs::path& file) {
    if (staged_.erase(file)) ::unlink(temp_path_for(file).c_str());
}

std::size_t AtomicBatch::commit() {
    std::vector<fs::path> files(staged_.begin(), staged_.end()), temps;
    staged_.clear();
    for (auto& f : files) temps.push_back(temp_path_for(f));
    auto errors = fsync_all(temps);

    std::exception_ptr first_error;
    auto record = [&](int err, const std::string& what, const fs::path& path) {
        if (!first_error)
            first_error = std::make_exception_ptr(
                std::system_error(err, std::generic_category(), what + " " + path.string()));
    };
    std::set<fs::path> dirs;
    std::size_t committed = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (errors[i] == 0 && ::rename(temps[i].c_str(), files[i].c_str()) != 0) errors[i] = errno;
        if (errors[i] != 0) {
            record(errors[i], "cannot save", files[i]);
            ::unlink(temps[i].c_str());
            continue;
        }
        dirs.insert(files[i].parent_path());
        ++committed;
    }
    for (auto& dir : dirs) {
        try {
            sync_directory(dir);
        } catch (...) {
            if (!first_error) first_error = std::current_exception();
        }
    }
    if (first_error) std::rethrow_exception(first_error);
    return committed;
}

}  // namespace btd::daemon
