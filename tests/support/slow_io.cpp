// A slow disk for tests, preloaded into btd (LD_PRELOAD): every pread/pwrite/read on a file
// whose path contains BTD_SLOW_IO_MARKER first sleeps BTD_SLOW_IO_MS milliseconds. Other files,
// sockets and pipes are untouched, so only the disk is slow. Test builds only; never installed.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char* marker() {
    static const char* value = std::getenv("BTD_SLOW_IO_MARKER");
    return value && *value ? value : nullptr;
}

// Sleeps when `fd` is a file under the marker. readlink per call: slow, but this is a test.
void delay_if_slow(int fd) {
    if (!marker()) return;
    char link[64], target[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    auto n = ::readlink(link, target, sizeof target - 1);
    if (n <= 0) return;
    target[n] = '\0';
    if (!std::strstr(target, marker())) return;
    static const long ms = [] {
        const char* v = std::getenv("BTD_SLOW_IO_MS");
        return v ? std::atol(v) : 50L;
    }();
    ::usleep(static_cast<useconds_t>(ms * 1000));
}

template <typename Fn>
Fn real(const char* name) {
    return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

ssize_t pread(int fd, void* buf, size_t count, off_t offset) {
    static auto next = real<ssize_t (*)(int, void*, size_t, off_t)>("pread");
    delay_if_slow(fd);
    return next(fd, buf, count, offset);
}

ssize_t pread64(int fd, void* buf, size_t count, off_t offset) {
    static auto next = real<ssize_t (*)(int, void*, size_t, off_t)>("pread64");
    delay_if_slow(fd);
    return next(fd, buf, count, offset);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
    static auto next = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
    delay_if_slow(fd);
    return next(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
    static auto next = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite64");
    delay_if_slow(fd);
    return next(fd, buf, count, offset);
}

ssize_t read(int fd, void* buf, size_t count) {
    static auto next = real<ssize_t (*)(int, void*, size_t)>("read");
    delay_if_slow(fd);
    return next(fd, buf, count);
}

}  // extern "C"
