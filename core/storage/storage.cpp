#include "core/storage/storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/storage/file_cache.hpp"
#include "core/storage/safe_path.hpp"
#include "core/util/hash.hpp"

namespace fs = std::filesystem;

namespace btd {

namespace {

std::vector<fs::path> checked_paths(const Metainfo& meta, const fs::path& dir) {
    std::vector<fs::path> out;
    out.reserve(meta.files.size());
    std::int64_t expected_offset = 0;
    for (const auto& f : meta.files) {
        if (f.offset != expected_offset || f.length < 0)
            throw StorageError("file layout of '" + meta.name + "' is inconsistent at '" +
                               f.path.string() + "'");
        expected_offset += f.length;
        out.push_back(f.pad ? fs::path() : checked_relative_path(dir, f.path));
    }
    if (expected_offset != meta.total_size)
        throw StorageError("file sizes of '" + meta.name + "' do not add up to its total size");
    return out;
}

void pwrite_all(const OpenFile& f, const std::uint8_t* data, std::size_t n, std::int64_t pos,
                const fs::path& name) {
    while (n > 0) {
        ssize_t w = ::pwrite(f.fd, data, n, pos);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw StorageError(os_error_message("write to", name, w < 0 ? errno : EIO));
        data += w;
        n -= static_cast<std::size_t>(w);
        pos += w;
    }
}

void pread_all(const OpenFile& f, std::uint8_t* data, std::size_t n, std::int64_t pos,
               const fs::path& name) {
    while (n > 0) {
        ssize_t r = ::pread(f.fd, data, n, pos);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw StorageError(os_error_message("read from", name, errno));
        if (r == 0)
            throw StorageError("cannot read from '" + name.string() +
                               "': the file is shorter than the torrent says");
        data += r;
        n -= static_cast<std::size_t>(r);
        pos += r;
    }
}

}  // namespace

struct Storage::Impl {
    Impl(const Metainfo& m, fs::path d)
        : meta(m),
          dir(std::move(d)),
          relative(checked_paths(meta, dir)),
          cache(dir, relative, kMaxOpenFiles) {
        offsets.reserve(meta.files.size());
        for (const auto& f : meta.files) offsets.push_back(f.offset);
    }

    // Calls fn(file, offset_in_file, offset_in_buffer, length) for each file slice of the
    // torrent byte range [start, start + length), skipping zero-length files.
    template <class Fn>
    void for_each_slice(std::int64_t start, std::int64_t length, Fn&& fn) const {
        if (length <= 0) return;
        auto it = std::upper_bound(offsets.begin(), offsets.end(), start);
        auto file = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, it - offsets.begin() - 1));
        std::int64_t done = 0;
        for (; file < meta.files.size() && done < length; ++file) {
            const auto& f = meta.files[file];
            std::int64_t pos = start + done;
            if (f.length == 0 || pos >= f.offset + f.length) continue;
            std::int64_t n = std::min(length - done, f.offset + f.length - pos);
            fn(static_cast<int>(file), pos - f.offset, done, n);
            done += n;
        }
        if (done < length) throw StorageError("byte range outside the torrent's files");
    }

    void read_range(std::int64_t start, std::span<std::uint8_t> out) {
        for_each_slice(start, static_cast<std::int64_t>(out.size()),
                       [&](int file, std::int64_t file_pos, std::int64_t buf_pos, std::int64_t n) {
                           std::uint8_t* dst = out.data() + buf_pos;
                           if (meta.files[file].pad) {
                               std::memset(dst, 0, static_cast<std::size_t>(n));
                               return;
                           }
                           auto handle = cache.get(file, false);
                           pread_all(*handle, dst, static_cast<std::size_t>(n), file_pos,
                                     cache.full_path(file));
                       });
    }

    std::int64_t piece_start(int piece) const { return std::int64_t{piece} * meta.piece_length; }

    Metainfo meta;
    fs::path dir;
    std::vector<fs::path> relative;  // checked, empty for pad files
    std::vector<std::int64_t> offsets;
    FileCache cache;
};

Storage::Storage(const Metainfo& meta, fs::path download_dir)
    : impl_(std::make_unique<Impl>(meta, std::move(download_dir))) {}

Storage::~Storage() = default;

const Metainfo& Storage::metainfo() const {
    return impl_->meta;
}
const fs::path& Storage::download_dir() const {
    return impl_->dir;
}

std::int64_t Storage::piece_size(int piece) const {
    const auto& m = impl_->meta;
    if (piece < 0 || piece >= m.num_pieces()) return 0;
    return std::min(m.piece_length, m.total_size - impl_->piece_start(piece));
}

void Storage::write_piece(int piece, std::span<const std::uint8_t> data) {
    if (static_cast<std::int64_t>(data.size()) != piece_size(piece) || data.empty())
        throw StorageError("piece " + std::to_string(piece) + " of '" + impl_->meta.name +
                           "' has the wrong size for writing");
    impl_->for_each_slice(
        impl_->piece_start(piece), static_cast<std::int64_t>(data.size()),
        [&](int file, std::int64_t file_pos, std::int64_t buf_pos, std::int64_t n) {
            if (impl_->meta.files[file].pad) return;
            auto handle = impl_->cache.get(file, true);
            pwrite_all(*handle, data.data() + buf_pos, static_cast<std::size_t>(n), file_pos,
                       impl_->cache.full_path(file));
            handle->dirty = true;
        });
}

void Storage::read(int piece, int offset, std::span<std::uint8_t> out) {
    if (offset < 0 || static_cast<std::int64_t>(offset) + static_cast<std::int64_t>(out.size()) >
                          piece_size(piece))
        throw StorageError("read outside piece " + std::to_string(piece) + " of '" +
                           impl_->meta.name + "'");
    impl_->read_range(impl_->piece_start(piece) + offset, out);
}

bool Storage::check_piece(int piece) {
    const std::int64_t size = piece_size(piece);
    if (size <= 0) return false;
    constexpr std::int64_t kChunk = 256 * 1024;  // bounded memory whatever the piece length
    std::vector<std::uint8_t> buffer(static_cast<std::size_t>(std::min(size, kChunk)));
    Sha1Hasher hasher;
    try {
        for (std::int64_t done = 0; done < size;) {
            auto n = static_cast<std::size_t>(std::min(kChunk, size - done));
            std::span<std::uint8_t> chunk(buffer.data(), n);
            impl_->read_range(impl_->piece_start(piece) + done, chunk);
            hasher.update(chunk);
            done += static_cast<std::int64_t>(n);
        }
    } catch (const StorageError&) {
        return false;
    }
    return hasher.finish() == impl_->meta.piece_hashes[piece];
}

void Storage::create_files(const std::vector<bool>& which) {
    for (std::size_t i = 0; i < impl_->meta.files.size(); ++i) {
        const auto& f = impl_->meta.files[i];
        if (f.pad || (i < which.size() && !which[i])) continue;
        const fs::path full = impl_->cache.full_path(static_cast<int>(i));
        int fd = open_file_nofollow(impl_->dir, impl_->relative[i], O_RDWR | O_CREAT, true);
        if (fd < 0) throw StorageError(os_error_message("create", full, errno));
        struct stat st {};
        int err = 0;
        if (::fstat(fd, &st) != 0)
            err = errno;
        else if (st.st_size < f.length && ::ftruncate(fd, f.length) != 0)
            err = errno;
        ::close(fd);
        if (err) throw StorageError(os_error_message("allocate", full, err));
    }
}

void Storage::flush() {
    impl_->cache.flush();
}

void Storage::close_files() {
    impl_->cache.close_all();
}

void Storage::delete_files() {
    impl_->cache.close_all();
    impl_->cache.forget_unsynced();
    std::string first_error;
    std::set<fs::path> dirs;
    for (std::size_t i = 0; i < impl_->meta.files.size(); ++i) {
        if (impl_->meta.files[i].pad) continue;
        const fs::path& rel = impl_->relative[i];
        for (fs::path d = rel.parent_path(); !d.empty(); d = d.parent_path()) dirs.insert(d);
        if (unlink_nofollow(impl_->dir, rel, false) != 0 && errno != ENOENT && first_error.empty())
            first_error = os_error_message("delete", impl_->dir / rel, errno);
    }
    // Deepest first; rmdir refuses non-empty directories, which we keep (user files in them).
    std::vector<fs::path> ordered(dirs.begin(), dirs.end());
    auto depth = [](const fs::path& p) { return std::distance(p.begin(), p.end()); };
    std::stable_sort(ordered.begin(), ordered.end(),
                     [&](const fs::path& a, const fs::path& b) { return depth(a) > depth(b); });
    for (const auto& d : ordered) unlink_nofollow(impl_->dir, d, true);
    if (!first_error.empty()) throw StorageError(first_error);
}

}  // namespace btd
