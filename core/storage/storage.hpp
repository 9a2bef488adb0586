#pragma once
// Maps piece data onto the torrent's files. Thread-safe: called only from the disk pool.
//
// The per-file state (paths, descriptor cache, identity records, part store, write-behind) is
// built on the first call that needs it, so a loaded torrent that never touches its files (a
// paused one after a restart) costs only the Storage object itself.
//
// Files are opened lazily through a small cache of descriptors (at most kMaxOpenFiles), created
// with their parent directories on first write. Pad files (BEP 47) are never created: their
// bytes are skipped on write and read as zeros. Every path must stay inside download_dir and is
// opened without following symlinks (see safe_path.hpp).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/metainfo/metainfo.hpp"
#include "core/storage/file_stat.hpp"
#include "core/util/bitfield.hpp"

namespace btd {

class StorageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;  // message names the file and the OS error
    StorageError(const std::string& what, int os_error)
        : std::runtime_error(what), os_error_(os_error) {}
    int os_error() const { return os_error_; }  // the errno behind it; 0 if none

  private:
    int os_error_ = 0;
};

// A file is no longer the one btd wrote or verified (deleted, replaced, or modified by someone
// else): its pieces must be checked again before they count or are served.
class FileChangedError : public StorageError {
  public:
    FileChangedError(int file, const std::filesystem::path& path, const std::string& reason)
        : StorageError("'" + path.string() + "' " + reason), file_(file), reason_(reason) {}
    int file() const { return file_; }
    const std::string& reason() const { return reason_; }  // "was deleted while downloading"

  private:
    int file_;
    std::string reason_;
};

struct FileProblem {
    int file = 0;        // index into the metainfo's files
    std::string reason;  // the end of a sentence about the file: "was deleted"
};

class FileCache;

class Storage {
  public:
    static constexpr std::size_t kMaxOpenFiles = 64;

    // Throws StorageError if a file path would leave download_dir or the file offsets/lengths
    // do not add up to a contiguous layout.
    Storage(const Metainfo& meta, std::filesystem::path download_dir);  // keeps a copy
    Storage(std::shared_ptr<const Metainfo> meta, std::filesystem::path download_dir);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    // Writes a whole verified piece; skips pad files; creates directories and files as needed.
    // data.size() must equal the piece's size.
    // Throws FileChangedError (and writes nothing more) if the file was deleted or replaced
    // since btd last wrote or verified it: the pieces already in it are then suspect.
    void write_piece(int piece, std::span<const std::uint8_t> data);
    // Reads part of a piece (for uploading). Throws StorageError if a file is missing/short, and
    // FileChangedError if a file is not what btd last wrote or verified (deleted, replaced, or
    // its size or modification time changed), so changed bytes are never served as verified.
    void read(int piece, int offset, std::span<std::uint8_t> out);
    // Reads and hashes a piece from disk; false if any file is missing, short, unreadable or the
    // hash differs. Never throws StorageError.
    bool check_piece(int piece);
    // Creates every (non-pad) file at its final size so zero-length files exist too; with
    // `which` (one flag per file), only the flagged ones (after moving their bytes out of the
    // part store, see below).
    void create_files(const std::vector<bool>& which = {});

    // Skipped files (one flag per file; no I/O, may be called from any thread). A skipped file
    // that does not exist on disk is never created: the bytes of it that share a piece with a
    // wanted file go to the part store (part_store.hpp) and are read back from there. A skipped
    // file already on disk keeps being used as it is. When a file is wanted again, its bytes
    // move from the part store into the file at the next access to it, at create_files, or at
    // move_parts_to_wanted_files.
    void set_skipped_files(std::vector<bool> skipped);
    void move_parts_to_wanted_files();
    std::filesystem::path part_store_path() const;
    void flush();         // fsync files written since the last flush (before resume data)
    void close_files();   // drop cached handles (e.g. before delete)
    void delete_files();  // removes the torrent's files and empty directories it created
    // Works from `dir` from now on (the files were moved there, or are to be looked for there);
    // skipped files stay skipped. Throws StorageError like the constructor.
    void set_download_dir(std::filesystem::path dir);

    // Identity checks. btd records what each file is when it writes or hashes it; these compare
    // the paths on disk with that record. For the flagged files (empty = all) that have data:
    // deleted or replaced files, with `compare_contents` also a changed size or modification
    // time, with `require_present` also files missing or shorter than the torrent says.
    std::vector<FileProblem> find_changed_files(const std::vector<bool>& which,
                                                bool compare_contents, bool require_present);
    // What resume data should say each file is: what btd last wrote or verified where it knows
    // (so a file replaced but not yet noticed is caught at the next start), else what is on disk.
    std::vector<FileIdentity> identities_for_resume();
    // Takes what is on disk now as verified (restoring from resume data that matched it).
    void adopt_identities(const std::vector<FileIdentity>& now);
    // Drops the files' cached descriptors and records, before their pieces are checked again.
    void forget_files(const std::vector<int>& files);

    // Whether a read may find a piece's bytes in the part store instead of the files (some file
    // is or was skipped); when not, bytes missing from the files are missing. Any thread.
    bool may_read_part_store() const;

    const Metainfo& metainfo() const;
    const std::filesystem::path& download_dir() const;
    std::int64_t piece_size(int piece) const;                // 0 for an index outside the torrent
    bool holds_file_state() const { return built_.load(); }  // for tests: built yet?

  private:
    struct Impl;
    Impl& impl();  // builds it on first use (any thread)
    void record_identities(FileCache& cache, const std::vector<FileIdentity>& identities);

    std::shared_ptr<const Metainfo> meta_;
    std::filesystem::path dir_;
    std::once_flag build_once_;
    std::atomic<bool> built_{false};
    std::unique_ptr<Impl> impl_;
    std::mutex adopted_mutex_;           // adopted_, and impl_ while it is being built
    std::vector<FileIdentity> adopted_;  // adopted before the Impl was built
};

}  // namespace btd
