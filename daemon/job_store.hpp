#pragma once
// The job list in the state dir: one .torrent per job (<state>/torrents/<info-hash>.torrent),
// or for a magnet job still waiting for its metadata its link (<info-hash>.magnet, replaced by
// the .torrent once the metadata is known), and its resume data (<state>/resume/<info-hash>.json).
// Every write is atomic. Plain file operations, safe to call from any one thread at a time.
//
// Writes are staged and become durable and visible together in commit() (one batch of fsyncs
// instead of two fsyncs per file, see atomic_batch.hpp): call it after a batch of saves, e.g.
// when the writer thread runs out of work. Resume files are rewritten only when their bytes
// change (the store remembers a digest of what it last wrote or loaded per job).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/metainfo/magnet.hpp"
#include "core/metainfo/metainfo.hpp"
#include "core/session/types.hpp"
#include "core/util/sha1_map.hpp"
#include "daemon/atomic_batch.hpp"

namespace btd::daemon {

struct StoredJob {
    Metainfo meta;                     // empty while `magnet` is set
    std::optional<MagnetLink> magnet;  // a magnet job still waiting for its metadata
    std::optional<ResumeData> resume;  // nullopt: none saved yet, or unreadable (full re-check)
};

class JobStore {
  public:
    explicit JobStore(std::filesystem::path state_dir);

    // Creates the sub-directories (mode 0700); throws std::filesystem::filesystem_error.
    void prepare() const;

    std::filesystem::path torrent_path(const Sha1Hash& id) const;
    std::filesystem::path resume_path(const Sha1Hash& id) const;

    bool has_torrent(const Sha1Hash& id) const;  // committed files only
    void save_torrent(const Sha1Hash& id, const std::string& torrent_bytes);
    std::filesystem::path magnet_path(const Sha1Hash& id) const;
    bool has_magnet(const Sha1Hash& id) const;  // committed files only
    void save_magnet(const Sha1Hash& id, const std::string& uri);
    // Once the .torrent is committed: the link is no longer needed (durably removed).
    void remove_magnet(const Sha1Hash& id);
    // Returns false (and touches nothing) when the file already holds exactly these bytes.
    bool save_resume(const Sha1Hash& id, const ResumeData& data);
    // Makes the saves since the last commit durable and visible; throws std::system_error
    // (the files that could be saved are saved).
    void commit();
    void remove(const Sha1Hash& id);  // both files, durably; absent files are fine

    // Every stored job, oldest first. A corrupt .torrent (bad content, wrong info-hash, not a
    // regular file) is set aside as `<file>.corrupt-<time>` and skipped; corrupt resume data is
    // set aside the same way and its job alone is checked in full. Unreadable files (permissions)
    // are logged and left in place. Never throws for bad content.
    std::vector<StoredJob> load_all();

    std::uint64_t resume_files_written() const { return resume_files_written_; }
    std::uint64_t resume_writes_skipped() const { return resume_writes_skipped_; }

  private:
    std::optional<ResumeData> load_resume(const Sha1Hash& id, const std::string& name);

    std::filesystem::path torrents_dir_;
    std::filesystem::path resume_dir_;
    std::mutex mutex_;                 // guards the two below
    Sha1Map<Sha1Hash> resume_digest_;  // SHA-1 of the bytes on disk (or staged)
    AtomicBatch batch_;
    std::atomic<std::uint64_t> resume_files_written_{0};
    std::atomic<std::uint64_t> resume_writes_skipped_{0};
};

}  // namespace btd::daemon
