#include "core/storage/storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/storage/file_cache.hpp"
#include "core/storage/file_io.hpp"
#include "core/storage/part_store.hpp"
#include "core/storage/safe_path.hpp"
#include "core/storage/write_behind.hpp"
#include "core/util/hash.hpp"

namespace fs = std::filesystem;

namespace btd {

namespace {

enum class ReadPurpose { upload, check };

// Brackets one of btd's own writes, so a reader never takes it for a change behind btd's back;
// done() records the file as the write left it.
class OwnWrite {
  public:
    OwnWrite(FileCache& cache, int file, const OpenFile& handle)
        : cache_(cache), file_(file), changed_(cache.begin_write(file, handle)) {}
    ~OwnWrite() { cache_.end_write(file_, written_); }
    OwnWrite(const OwnWrite&) = delete;
    OwnWrite& operator=(const OwnWrite&) = delete;
    // Why the file is no longer the one recorded before this write ("" if it is).
    const std::string& changed() const { return changed_; }
    void done(const OpenFile& handle) { written_ = &handle; }

  private:
    FileCache& cache_;
    int file_;
    std::string changed_;
    const OpenFile* written_ = nullptr;
};

}  // namespace

struct Storage::Impl {
    Impl(std::shared_ptr<const Metainfo> m, fs::path d)
        : shared_meta(std::move(m)),
          meta(*shared_meta),
          dir(std::move(d)),
          relative(checked_file_paths(meta, dir)),
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

    void read_range(std::int64_t start, std::span<std::uint8_t> out, ReadPurpose purpose) {
        for_each_slice(start, static_cast<std::int64_t>(out.size()),
                       [&](int file, std::int64_t file_pos, std::int64_t buf_pos, std::int64_t n) {
                           std::uint8_t* dst = out.data() + buf_pos;
                           if (meta.files[file].pad) {
                               std::memset(dst, 0, static_cast<std::size_t>(n));
                               return;
                           }
                           if (read_part(file, start + buf_pos, {dst, static_cast<std::size_t>(n)}))
                               return;
                           auto handle = cache.get(file, false);
                           auto before = cache.snapshot(file);
                           pread_all(*handle, dst, static_cast<std::size_t>(n), file_pos,
                                     cache.full_path(file));
                           after_read(file, *handle, before, purpose);
                       });
    }

    // Read-ahead hint for the files under torrent bytes [start, start + length); best effort.
    void will_need(std::int64_t start, std::int64_t length) {
        for_each_slice(start, length, [&](int file, std::int64_t file_pos, auto, std::int64_t n) {
            if (meta.files[file].pad || kept_in_part_store(file)) return;
            try {
                ::posix_fadvise(cache.get(file, false)->fd, file_pos, n, POSIX_FADV_WILLNEED);
            } catch (const StorageError&) {
                // missing or unreadable: the read itself reports it
            }
        });
    }

    // The identity is taken after reading: a change made before or during the read shows.
    void after_read(int file, const OpenFile& handle, const FileCache::Snapshot& before,
                    ReadPurpose purpose) {
        FileIdentity now = fstat_identity(handle);
        auto after = cache.snapshot(file);
        bool quiet = FileCache::quiet_between(before, after);
        if (purpose == ReadPurpose::check) {
            if (now.link_count == 0)
                throw StorageError("'" + cache.full_path(file).string() + "' was deleted");
            if (quiet) cache.record(file, now);
            return;
        }
        std::string reason = after.known ? describe_change(after.known, now, quiet)
                                         : "was not verified since it was opened";
        if (!reason.empty()) throw FileChangedError(file, cache.full_path(file), reason);
    }

    // Writes one slice; refuses to add to a file that is no longer the one btd knew. Then hands
    // the range to the write-behind (after the write is recorded, so readers see it finished).
    void write_slice(int file, const std::uint8_t* data, std::int64_t n, std::int64_t file_pos) {
        auto handle = cache.get(file, true);
        {
            OwnWrite own(cache, file, *handle);
            if (!own.changed().empty()) {
                cache.forget(file);
                throw FileChangedError(file, cache.full_path(file),
                                       own.changed() + " while downloading");
            }
            pwrite_all(*handle, data, static_cast<std::size_t>(n), file_pos, cache.full_path(file));
            handle->dirty = true;
            if (fstat_identity(*handle).link_count == 0) {
                cache.forget(file);
                throw FileChangedError(file, cache.full_path(file),
                                       "was deleted while downloading");
            }
            own.done(*handle);
        }
        write_behind.wrote(file, std::move(handle), file_pos, n,
                           [this](int f) { return cache.full_path(f).string(); });
    }

    std::int64_t piece_start(int piece) const { return std::int64_t{piece} * meta.piece_length; }

    // ---- skipped files and the part store (all under part_mutex) ----

    // Torrent bytes [pos, pos + data.size()) of `file`: into the part store if the file is kept
    // there. False if the caller must use the file itself.
    bool write_part(int file, std::int64_t pos, std::span<const std::uint8_t> data) {
        std::lock_guard lock(part_mutex);
        if (!uses_part_store(file)) return false;
        int piece = static_cast<int>(pos / meta.piece_length);
        parts.write(piece, pos - piece_start(piece), data);
        return true;
    }

    bool read_part(int file, std::int64_t pos, std::span<std::uint8_t> out) {
        std::lock_guard lock(part_mutex);
        if (!uses_part_store(file)) return false;
        int piece = static_cast<int>(pos / meta.piece_length);
        parts.read(piece, pos - piece_start(piece), out);
        return true;
    }

    bool kept_in_part_store(int file) {
        std::lock_guard lock(part_mutex);
        return uses_part_store(file);
    }

    // Where a file's bytes live, decided once per file: a skipped file that is not on disk is
    // kept in the part store; the file on disk wins if it exists (a user's file, or one wanted
    // before). A file wanted all along needs no look: its bytes are in the file. A file wanted
    // again gets its bytes moved out of the part store before anything else touches it.
    bool uses_part_store(int file) {
        if (file_mode.empty()) return false;
        FileMode& mode = file_mode[file];
        if (mode == FileMode::unknown)
            mode = skipped[file] ? FileMode::look_on_disk : FileMode::on_disk;
        if (mode == FileMode::look_on_disk)
            mode = exists_on_disk(file) ? FileMode::on_disk : FileMode::part_store;
        if (!skipped[file] && mode == FileMode::part_store) move_out_of_part_store(file);
        return mode == FileMode::part_store;
    }

    bool exists_on_disk(int file) {
        int fd = open_file_nofollow(dir, relative[file], O_RDONLY, false);
        if (fd < 0) return errno != ENOENT;  // anything else: let the file's own I/O report it
        ::close(fd);
        return true;
    }

    std::pair<int, int> piece_range(int file) const {
        const auto& f = meta.files[file];
        if (f.length == 0) return {0, -1};
        return {static_cast<int>(f.offset / meta.piece_length),
                static_cast<int>((f.offset + f.length - 1) / meta.piece_length)};
    }

    // Copies first, then drops what no skipped file needs any more: an error on the way leaves
    // the bytes in the part store, to be moved at the next access.
    void move_out_of_part_store(int file) {
        const auto& f = meta.files[file];
        auto [first, last] = piece_range(file);
        auto pieces = parts.pieces_in(first, last);
        for (int piece : pieces) {
            std::int64_t begin = std::max(f.offset, piece_start(piece));
            std::int64_t end =
                std::min(f.offset + f.length, piece_start(piece) + meta.piece_length);
            copy_part_to_file(file, piece, begin, end);
        }
        file_mode[file] = FileMode::on_disk;  // from here on the file itself holds its bytes
        for (int piece : pieces)
            if (!piece_needs_part_store(piece)) parts.remove(piece);
    }

    // Synced before the part store lets go of the bytes, so a crash cannot lose them.
    void copy_part_to_file(int file, int piece, std::int64_t begin, std::int64_t end) {
        constexpr std::int64_t kChunk = 256 * 1024;
        std::vector<std::uint8_t> buffer(static_cast<std::size_t>(std::min(end - begin, kChunk)));
        auto handle = cache.get(file, true);
        OwnWrite own(cache, file, *handle);
        for (std::int64_t pos = begin; pos < end; pos += kChunk) {
            std::span<std::uint8_t> chunk(buffer.data(),
                                          static_cast<std::size_t>(std::min(kChunk, end - pos)));
            parts.read(piece, pos - piece_start(piece), chunk);
            pwrite_all(*handle, chunk.data(), chunk.size(), pos - meta.files[file].offset,
                       cache.full_path(file));
        }
        if (::fsync(handle->fd) != 0)
            throw StorageError(os_error_message("sync", cache.full_path(file), errno));
        own.done(*handle);
    }

    bool piece_needs_part_store(int piece) {
        bool needed = false;
        std::int64_t size = std::min(meta.piece_length, meta.total_size - piece_start(piece));
        for_each_slice(piece_start(piece), size, [&](int file, auto, auto, auto) {
            if (!meta.files[file].pad && uses_part_store(file)) needed = true;
        });
        return needed;
    }

    enum class FileMode : std::uint8_t { unknown, look_on_disk, on_disk, part_store };

    std::shared_ptr<const Metainfo> shared_meta;  // often the Torrent's own copy
    const Metainfo& meta;
    fs::path dir;
    std::vector<fs::path> relative;  // checked, empty for pad files
    std::vector<std::int64_t> offsets;
    FileCache cache;
    WriteBehind write_behind;
    std::mutex part_mutex;
    PartStore parts{dir, meta.info_hash};
    std::vector<bool> skipped;        // empty until set_skipped_files
    std::vector<FileMode> file_mode;  // where a skipped file's bytes live
};

Storage::Storage(const Metainfo& meta, fs::path download_dir)
    : Storage(std::make_shared<const Metainfo>(meta), std::move(download_dir)) {}

Storage::Storage(std::shared_ptr<const Metainfo> meta, fs::path download_dir)
    : meta_(std::move(meta)), dir_(std::move(download_dir)) {
    checked_file_paths(*meta_, dir_);  // throws now, not at the first disk job
}

Storage::~Storage() = default;

Storage::Impl& Storage::impl() {
    std::call_once(build_once_, [this] {
        auto built = std::make_unique<Impl>(meta_, dir_);
        std::lock_guard lock(adopted_mutex_);
        record_identities(built->cache, adopted_);
        std::vector<FileIdentity>().swap(adopted_);
        impl_ = std::move(built);
        built_ = true;
    });
    return *impl_;
}

void Storage::record_identities(FileCache& cache, const std::vector<FileIdentity>& identities) {
    for (std::size_t i = 0; i < identities.size() && i < meta_->files.size(); ++i)
        if (!meta_->files[i].pad && identities[i].exists())
            cache.record(static_cast<int>(i), identities[i]);
}

bool Storage::may_read_part_store() const {
    if (!built_) return false;  // nothing skipped yet: set_skipped_files builds it first
    std::lock_guard lock(impl_->part_mutex);
    return !impl_->file_mode.empty();
}

const Metainfo& Storage::metainfo() const {
    return *meta_;
}
const fs::path& Storage::download_dir() const {
    return dir_;
}

std::int64_t Storage::piece_size(int piece) const {
    const auto& m = *meta_;
    if (piece < 0 || piece >= m.num_pieces()) return 0;
    return std::min(m.piece_length, m.total_size - std::int64_t{piece} * m.piece_length);
}

void Storage::write_piece(int piece, std::span<const std::uint8_t> data) {
    if (static_cast<std::int64_t>(data.size()) != piece_size(piece) || data.empty())
        throw StorageError("piece " + std::to_string(piece) + " of '" + meta_->name +
                           "' has the wrong size for writing");
    Impl& im = impl();
    im.for_each_slice(im.piece_start(piece), static_cast<std::int64_t>(data.size()),
                      [&](int file, std::int64_t file_pos, std::int64_t buf_pos, std::int64_t n) {
                          if (im.meta.files[file].pad) return;
                          auto slice = data.subspan(static_cast<std::size_t>(buf_pos),
                                                    static_cast<std::size_t>(n));
                          if (im.write_part(file, im.piece_start(piece) + buf_pos, slice)) return;
                          im.write_slice(file, data.data() + buf_pos, n, file_pos);
                      });
}

void Storage::read(int piece, int offset, std::span<std::uint8_t> out) {
    if (offset < 0 || static_cast<std::int64_t>(offset) + static_cast<std::int64_t>(out.size()) >
                          piece_size(piece))
        throw StorageError("read outside piece " + std::to_string(piece) + " of '" + meta_->name +
                           "'");
    Impl& im = impl();
    im.read_range(im.piece_start(piece) + offset, out, ReadPurpose::upload);
}

bool Storage::check_piece(int piece) {
    const std::int64_t size = piece_size(piece);
    if (size <= 0) return false;
    constexpr std::int64_t kChunk = 256 * 1024;  // bounded memory whatever the piece length
    auto buffer = std::make_unique_for_overwrite<std::uint8_t[]>(
        static_cast<std::size_t>(std::min(size, kChunk)));
    Sha1Hasher hasher;
    // Uncached data: ask for the whole piece at once, so the disk works on it while the first
    // chunk is hashed (and several pieces in flight keep its queue full).
    Impl& im = impl();
    im.will_need(im.piece_start(piece), size);
    try {
        for (std::int64_t done = 0; done < size;) {
            auto n = static_cast<std::size_t>(std::min(kChunk, size - done));
            std::span<std::uint8_t> chunk(buffer.get(), n);
            im.read_range(im.piece_start(piece) + done, chunk, ReadPurpose::check);
            hasher.update(chunk);
            done += static_cast<std::int64_t>(n);
        }
    } catch (const StorageError&) {
        return false;
    }
    return hasher.finish() == meta_->piece_hash(piece);
}

void Storage::create_files(const std::vector<bool>& which) {
    impl();
    for (std::size_t i = 0; i < impl_->meta.files.size(); ++i) {
        const auto& f = impl_->meta.files[i];
        if (f.pad || (i < which.size() && !which[i])) continue;
        if (impl_->kept_in_part_store(static_cast<int>(i))) continue;  // skipped: never created
        const fs::path full = impl_->cache.full_path(static_cast<int>(i));
        int fd = open_file_nofollow(impl_->dir, impl_->relative[i], O_RDWR | O_CREAT, true);
        if (fd < 0) throw StorageError(os_error_message("create", full, errno), errno);
        struct stat st {};
        int err = 0;
        if (::fstat(fd, &st) != 0 || (st.st_size < f.length && ::ftruncate(fd, f.length) != 0))
            err = errno;
        ::close(fd);
        if (err) throw StorageError(os_error_message("allocate", full, err), err);
    }
}

void Storage::flush() {
    if (!built_) return;  // nothing written, nothing in the part store
    // Before any resume data records a file as wanted again, its bytes are in it: a restart
    // must not find a wanted file whose verified bytes are still in the part store.
    move_parts_to_wanted_files();
    impl_->cache.flush();
    std::lock_guard lock(impl_->part_mutex);
    impl_->parts.flush();
}

void Storage::set_skipped_files(std::vector<bool> skipped) {
    // Nothing skipped is what a fresh Impl assumes: no need to build one to say so.
    if (!built_ && std::find(skipped.begin(), skipped.end(), true) == skipped.end()) return;
    impl();
    std::lock_guard lock(impl_->part_mutex);
    skipped.resize(impl_->meta.files.size(), false);
    impl_->file_mode.resize(impl_->meta.files.size(), Impl::FileMode::unknown);
    for (std::size_t i = 0; i < skipped.size(); ++i) {
        bool was_skipped = i < impl_->skipped.size() && impl_->skipped[i];
        auto& mode = impl_->file_mode[i];
        // Skipped now: looked at again, so a file with nothing on disk yet is not created.
        // Wanted again before anything decided where its bytes are: they may be in the part
        // store (written by an earlier run).
        if (skipped[i] != was_skipped && (skipped[i] || mode == Impl::FileMode::unknown))
            mode = Impl::FileMode::look_on_disk;
    }
    impl_->skipped = std::move(skipped);
}

void Storage::move_parts_to_wanted_files() {
    if (!built_) return;
    for (std::size_t i = 0; i < impl_->meta.files.size(); ++i)
        impl_->kept_in_part_store(static_cast<int>(i));  // moves a wanted file's bytes home
}

fs::path Storage::part_store_path() const {
    return dir_ / PartStore::dir_name(meta_->info_hash);
}

void Storage::close_files() {
    if (!built_) return;
    impl_->write_behind.clear();
    impl_->cache.close_all();
}

void Storage::set_download_dir(fs::path dir) {
    checked_file_paths(*meta_, dir);
    if (!built_) {  // the Impl built later starts in `dir`, knowing no file (as a fresh one)
        std::lock_guard lock(adopted_mutex_);
        std::vector<FileIdentity>().swap(adopted_);
        dir_ = std::move(dir);
        return;
    }
    auto fresh = std::make_unique<Impl>(meta_, dir);
    close_files();
    Impl& old = impl();
    fresh->skipped = old.skipped;
    fresh->file_mode = old.file_mode;  // the part store moved along with the files
    impl_ = std::move(fresh);
    dir_ = std::move(dir);
}

void Storage::delete_files() {
    impl();
    impl_->write_behind.clear();
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
    {
        std::lock_guard lock(impl_->part_mutex);
        impl_->parts.remove_all();
    }
    if (!first_error.empty()) throw StorageError(first_error);
}

std::vector<FileProblem> Storage::find_changed_files(const std::vector<bool>& which,
                                                     bool compare_contents, bool require_present) {
    std::vector<FileProblem> problems;
    auto& cache = impl().cache;
    for (std::size_t i = 0; i < impl_->meta.files.size(); ++i) {
        const auto& f = impl_->meta.files[i];
        if (f.pad || f.length == 0 || (!which.empty() && (i >= which.size() || !which[i])))
            continue;
        const int file = static_cast<int>(i);
        auto before = cache.snapshot(file);
        FileIdentity now = stat_file(impl_->dir, impl_->relative[i]);
        auto after = cache.snapshot(file);
        bool contents = compare_contents && FileCache::quiet_between(before, after);
        std::string reason = describe_change(after.known, now, contents);
        if (reason.empty() && require_present && now.size < f.length)
            reason = now.exists() ? "is shorter than the torrent says" : "is missing";
        if (!reason.empty()) problems.push_back({file, std::move(reason)});
    }
    return problems;
}

std::vector<FileIdentity> Storage::identities_for_resume() {
    auto out = stat_files(*meta_, dir_);
    if (!built_) {  // nothing written yet: what was verified, else what is on disk
        std::lock_guard lock(adopted_mutex_);
        if (!built_) {
            for (std::size_t i = 0; i < out.size() && i < adopted_.size(); ++i)
                if (adopted_[i].exists()) out[i] = adopted_[i];
            return out;
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto known = impl_->cache.snapshot(static_cast<int>(i)).known;
        if (known && !impl_->meta.files[i].pad) out[i] = *known;
    }
    return out;
}

// Kept as a list until the file state is built: a restored job that is never started (10,000
// paused ones) holds its files' identities, not a file cache, write-behind and part store.
void Storage::adopt_identities(const std::vector<FileIdentity>& now) {
    if (std::none_of(now.begin(), now.end(), [](const auto& id) { return id.exists(); })) return;
    std::lock_guard lock(adopted_mutex_);
    if (built_) return record_identities(impl_->cache, now);
    adopted_.resize(std::max(adopted_.size(), now.size()));
    for (std::size_t i = 0; i < now.size(); ++i)
        if (now[i].exists()) adopted_[i] = now[i];
}

void Storage::forget_files(const std::vector<int>& files) {
    if (!built_) return;  // no descriptors, no records
    impl_->write_behind.clear();
    for (int f : files) impl_->cache.forget(f);
}

}  // namespace btd
