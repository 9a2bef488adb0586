#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/storage/storage.hpp"
#include "core/storage/write_behind.hpp"
#include "storage_fixture.hpp"

using namespace btd;
using btd::test::TempDir;

namespace {

constexpr std::int64_t kChunk = 256 * 1024;

std::shared_ptr<OpenFile> open_new(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    return std::make_shared<OpenFile>(fd, true);
}

void write_chunk(const OpenFile& f, std::int64_t index) {
    std::vector<std::uint8_t> data(kChunk, static_cast<std::uint8_t>(index + 1));
    REQUIRE(::pwrite(f.fd, data.data(), data.size(), index * kChunk) == kChunk);
}

// How many of the range's pages are in the page cache.
std::size_t resident_pages(int fd, std::int64_t offset, std::int64_t length) {
    void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, offset);
    REQUIRE(map != MAP_FAILED);
    const long page = ::sysconf(_SC_PAGESIZE);
    std::vector<unsigned char> vec((length + page - 1) / page);
    REQUIRE(::mincore(map, length, vec.data()) == 0);
    ::munmap(map, length);
    std::size_t n = 0;
    for (auto v : vec) n += v & 1;
    return n;
}

bool on_tmpfs(const std::filesystem::path& dir) {
    struct statfs st {};
    return ::statfs(dir.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
}

// Whether this file system drops clean pages on POSIX_FADV_DONTNEED at all (tmpfs and some
// overlay or network file systems keep them).
bool drops_clean_pages(const std::filesystem::path& dir) {
    if (on_tmpfs(dir)) return false;
    auto probe = open_new(dir / "probe.bin");
    write_chunk(*probe, 0);
    REQUIRE(::fdatasync(probe->fd) == 0);
    ::posix_fadvise(probe->fd, 0, kChunk, POSIX_FADV_DONTNEED);
    return resident_pages(probe->fd, 0, kChunk) == 0;
}

std::string name_of(int file) {
    return "file " + std::to_string(file);
}

}  // namespace

TEST_CASE("write-behind keeps at most its window in flight and drops older ranges from the cache") {
    TempDir dir;
    auto file = open_new(dir.path() / "data.bin");
    WriteBehind wb(4 * kChunk);
    for (std::int64_t i = 0; i < 16; ++i) {
        write_chunk(*file, i);
        wb.wrote(0, file, i * kChunk, kChunk, name_of);
        CHECK(wb.pending_bytes() <= 4 * kChunk);
    }
    if (!wb.enabled()) {
        MESSAGE("sync_file_range is not supported here: write-behind stays off");
        return;
    }
    CHECK(wb.pending_bytes() == 4 * kChunk);
    // The data is all there, whatever left the cache.
    std::vector<std::uint8_t> back(kChunk);
    for (std::int64_t i = 0; i < 16; ++i) {
        REQUIRE(::pread(file->fd, back.data(), back.size(), i * kChunk) == kChunk);
        CHECK(back.front() == static_cast<std::uint8_t>(i + 1));
        CHECK(back.back() == static_cast<std::uint8_t>(i + 1));
    }
    if (!drops_clean_pages(dir.path())) {
        MESSAGE("this file system keeps clean pages on DONTNEED: the cache check is skipped");
        return;
    }
    // Reading back above brought the pages in again: write a fresh file and look before reading.
    // Each chunk is synced first: only pages already written back can leave the cache, and
    // write-behind never waits for the disk.
    auto fresh = open_new(dir.path() / "fresh.bin");
    WriteBehind wb2(4 * kChunk);
    for (std::int64_t i = 0; i < 16; ++i) {
        write_chunk(*fresh, i);
        REQUIRE(::fdatasync(fresh->fd) == 0);
        wb2.wrote(1, fresh, i * kChunk, kChunk, name_of);
    }
    CHECK(resident_pages(fresh->fd, 0, 8 * kChunk) == 0);           // written back and dropped
    CHECK(resident_pages(fresh->fd, 12 * kChunk, 4 * kChunk) > 0);  // the window stays cached
}

TEST_CASE("write-behind clear() forgets pending ranges") {
    TempDir dir;
    auto file = open_new(dir.path() / "data.bin");
    WriteBehind wb(64 * kChunk);
    for (std::int64_t i = 0; i < 4; ++i) {
        write_chunk(*file, i);
        wb.wrote(0, file, i * kChunk, kChunk, name_of);
    }
    if (!wb.enabled()) return;
    CHECK(wb.pending_bytes() == 4 * kChunk);
    wb.clear();
    CHECK(wb.pending_bytes() == 0);
    CHECK(file.use_count() == 1);  // no handle kept open
}
