#pragma once
// The job list in the state dir: one .torrent per job (<state>/torrents/<info-hash>.torrent)
// and its resume data (<state>/resume/<info-hash>.json). Every write is atomic. Plain file
// operations, safe to call from any one thread at a time.
//
// Resume files are rewritten only when their bytes change (the store remembers a digest of what
// it last wrote or loaded per job), and their renames are made durable in batches: call
// sync_resume_dir() once after a batch of save_resume() calls (one directory fsync for all).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/metainfo/metainfo.hpp"
#include "core/session/types.hpp"

namespace btd::daemon {

struct StoredJob {
    Metainfo meta;
    std::optional<ResumeData> resume;  // nullopt: none saved yet, or unreadable (full re-check)
};

class JobStore {
  public:
    explicit JobStore(std::filesystem::path state_dir);

    // Creates the sub-directories (mode 0700); throws std::filesystem::filesystem_error.
    void prepare() const;

    std::filesystem::path torrent_path(const Sha1Hash& id) const;
    std::filesystem::path resume_path(const Sha1Hash& id) const;

    bool has_torrent(const Sha1Hash& id) const;
    void save_torrent(const Sha1Hash& id, const std::string& torrent_bytes) const;
    // Returns false (and touches nothing) when the file already holds exactly these bytes. The
    // new file is complete at once; the rename is durable after sync_resume_dir().
    bool save_resume(const Sha1Hash& id, const ResumeData& data);
    // fsyncs the resume dir if a save_resume() renamed a file since the last call.
    void sync_resume_dir();
    void remove(const Sha1Hash& id);  // both files; absent files are fine

    // Every stored job, oldest first. Unreadable .torrent files are skipped and unreadable
    // resume data is dropped, each with a warning in the log; never throws for bad content.
    std::vector<StoredJob> load_all();

    std::uint64_t resume_files_written() const { return resume_files_written_; }
    std::uint64_t resume_writes_skipped() const { return resume_writes_skipped_; }

  private:
    std::filesystem::path torrents_dir_;
    std::filesystem::path resume_dir_;
    std::mutex mutex_;  // guards the two below
    std::map<Sha1Hash, Sha1Hash> resume_digest_;  // SHA-1 of the bytes on disk, per job
    bool resume_dir_unsynced_ = false;
    std::atomic<std::uint64_t> resume_files_written_{0};
    std::atomic<std::uint64_t> resume_writes_skipped_{0};
};

}  // namespace btd::daemon
