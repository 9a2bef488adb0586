#pragma once
// Helpers for storage tests: a unique temp dir and a hand-built Metainfo with known content.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/metainfo/metainfo.hpp"
#include "core/util/hash.hpp"

namespace btd::test {

namespace fs = std::filesystem;

class TempDir {
  public:
    TempDir() {
        static std::atomic<int> counter{0};
        std::random_device rd;
        path_ =
            fs::temp_directory_path() / ("btd-storage-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter++) + "-" + std::to_string(rd()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        // Restore permissions a test may have removed, so cleanup works as non-root.
        for (auto it = fs::recursive_directory_iterator(path_, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            if (it->is_directory(ec) && !it->is_symlink(ec))
                fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

struct FileSpec {
    std::string path;
    std::int64_t length;
    bool pad = false;
};

// A torrent with deterministic content (pad bytes are zero) and correct piece hashes.
struct TestTorrent {
    Metainfo meta;
    std::vector<std::uint8_t> content;

    std::vector<std::uint8_t> piece(int i) const {
        auto start = content.begin() + static_cast<std::ptrdiff_t>(i * meta.piece_length);
        auto end = start + static_cast<std::ptrdiff_t>(std::min<std::int64_t>(
                               meta.piece_length, meta.total_size - i * meta.piece_length));
        return {start, end};
    }
    // Content of one file as stored on disk.
    std::string file_bytes(std::size_t file) const {
        const auto& f = meta.files[file];
        return {content.begin() + f.offset, content.begin() + f.offset + f.length};
    }
};

inline TestTorrent make_torrent(const std::vector<FileSpec>& files, std::int64_t piece_length,
                                std::uint32_t seed = 1) {
    TestTorrent t;
    t.meta.name = "test";
    t.meta.piece_length = piece_length;
    std::mt19937 rng(seed);
    for (const auto& spec : files) {
        FileEntry e;
        e.path = spec.path;
        e.length = spec.length;
        e.offset = t.meta.total_size;
        e.pad = spec.pad;
        t.meta.files.push_back(e);
        t.meta.total_size += spec.length;
        for (std::int64_t i = 0; i < spec.length; ++i)
            t.content.push_back(spec.pad ? 0 : static_cast<std::uint8_t>(rng() % 251 + 1));
    }
    for (std::int64_t off = 0; off < t.meta.total_size; off += piece_length) {
        auto n = std::min(piece_length, t.meta.total_size - off);
        t.meta.piece_hashes.push_back(
            sha1(std::span<const std::uint8_t>(t.content.data() + off, static_cast<size_t>(n))));
    }
    return t;
}

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& p, const std::string& data) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << data;
}

}  // namespace btd::test
