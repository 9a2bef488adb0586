// pwrite probe (bench/README.md, "Leecher write path"): writes MIB MiB into a new file in
// chunks of KIB KiB from THREADS threads (1 MiB pieces handed out in order), then prints wall,
// user and sys time.
//   g++ -O2 -o /tmp/write_probe bench/write_probe.cpp -lpthread
//   /tmp/write_probe MIB KIB THREADS [MODE] [PATH]      e.g. /tmp/write_probe 1024 1024 1 nw
// MODE (substrings combine): falloc (posix_fallocate first), trunc (ftruncate first),
//   sfr (sync_file_range WRITE after each piece), wb (write-behind that waits: start each
//   piece's write-back, wait for the one 16 MiB back and drop it from the cache), nw
//   (write-behind without waiting, like core/storage/write_behind.cpp: start write-back, drop
//   the piece 32 MiB back with POSIX_FADV_DONTNEED).
// PATH defaults to ./write_probe.bin (deleted at the end): run it in the download dir.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
int main(int argc, char** argv) {
    size_t total = std::stoull(argv[1]) << 20, chunk = std::stoull(argv[2]) << 10;
    int threads = std::atoi(argv[3]);
    std::string mode = argc > 4 ? argv[4] : "";
    const char* path = argc > 5 ? argv[5] : "write_probe.bin";
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (mode.find("falloc") != std::string::npos) posix_fallocate(fd, 0, total);
    if (mode.find("trunc") != std::string::npos) ftruncate(fd, total);
    std::vector<char> buf(chunk);
    for (size_t i = 0; i < chunk; ++i) buf[i] = char(i * 7 + 3);
    const size_t piece = 1 << 20;  // pieces of 1 MiB handed to threads in order
    std::atomic<size_t> next{0};
    rusage r0;
    getrusage(RUSAGE_SELF, &r0);
    auto t0 = std::chrono::steady_clock::now();
    auto work = [&] {
        for (;;) {
            size_t p = next.fetch_add(piece);
            if (p >= total) break;
            for (size_t off = 0; off < piece; off += chunk)
                pwrite(fd, buf.data(), std::min(chunk, piece - off), p + off);
            if (mode.find("sfr") != std::string::npos)
                sync_file_range(fd, p, piece, SYNC_FILE_RANGE_WRITE);
            if (mode.find("nw") != std::string::npos) {
                sync_file_range(fd, p, piece, SYNC_FILE_RANGE_WRITE);
                const size_t window = 32 * piece;
                if (p >= window) posix_fadvise(fd, p - window, piece, POSIX_FADV_DONTNEED);
            } else if (mode.find("wb") != std::string::npos) {
                sync_file_range(fd, p, piece, SYNC_FILE_RANGE_WRITE);
                const size_t window = 16 * piece;
                if (p >= window) {
                    sync_file_range(fd, p - window, piece,
                                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                        SYNC_FILE_RANGE_WAIT_AFTER);
                    posix_fadvise(fd, p - window, piece, POSIX_FADV_DONTNEED);
                }
            }
        }
    };
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back(work);
    for (auto& t : ts) t.join();
    auto t1 = std::chrono::steady_clock::now();
    rusage r1;
    getrusage(RUSAGE_SELF, &r1);
    auto sec = [](timeval a, timeval b) {
        return (b.tv_sec - a.tv_sec) + (b.tv_usec - a.tv_usec) / 1e6;
    };
    double wall = std::chrono::duration<double>(t1 - t0).count();
    printf("chunk %5zuK thr %d %-10s wall %6.3f s %7.0f MiB/s user %.3f sys %.3f\n", chunk >> 10,
           threads, mode.c_str(), wall, (total >> 20) / wall, sec(r0.ru_utime, r1.ru_utime),
           sec(r0.ru_stime, r1.ru_stime));
    close(fd);
    unlink(path);
}
