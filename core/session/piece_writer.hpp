#pragma once
// A torrent's pieces in progress: one buffer per piece being downloaded, counted against the
// session's memory budget, filled block by block, then handed to a disk job that hashes it and,
// if the hash matches, writes it. The job shares ownership of the buffer, so a buffer outlives
// neither its job nor its owner: the writer (and the torrent) may go away while a job still
// hashes or writes (see ~Session). Network thread only; the write step runs on the pool.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/session/disk_jobs.hpp"
#include "core/storage/storage.hpp"
#include "core/util/hash.hpp"

namespace btd {

class PieceWriter {
  public:
    struct WriteResult {
        std::string error;
        bool transient = false;            // out of space or descriptors: try again later
        std::vector<FileProblem> changed;  // files not the ones btd wrote before
    };
    // Writes a verified piece; runs on the pool, must not throw.
    using WritePiece = std::function<WriteResult(int piece, std::span<const std::uint8_t> data)>;
    struct Outcome {
        bool hash_ok = false;  // false: nothing was written
        WriteResult write;
        std::vector<std::string> contributors;  // offender keys of the peers that sent blocks
    };

    // `memory_in_use` is the session-wide count of buffered bytes; it must outlive the writer.
    PieceWriter(DiskJobs& jobs, std::int64_t& memory_in_use, WritePiece write);
    ~PieceWriter();  // gives the memory back; jobs in flight keep their own buffers alive
    PieceWriter(const PieceWriter&) = delete;
    PieceWriter& operator=(const PieceWriter&) = delete;

    bool contains(int piece) const { return buffers_.count(piece) > 0; }
    bool empty() const { return buffers_.empty(); }
    std::size_t size() const { return buffers_.size(); }
    // A buffer of `size` bytes for `piece` (nothing if it has one).
    void open(int piece, int size);
    // Copies a block into its piece's buffer (opened with `piece_size` if needed) and notes
    // `contributor` as one of the piece's senders. The block must lie inside the piece.
    void add_block(int piece, int offset, std::span<const char> payload, int piece_size,
                   const std::string& contributor);
    // Hashes the piece on the pool and writes it if it matches `expected`. Then, on the network
    // thread, the buffer is released and done() runs (not if the writer is gone by then).
    void hash_and_write(int piece, const Sha1Hash& expected, std::function<void(Outcome)> done);
    void release(int piece);
    // Drops every piece not being hashed (their memory goes back); returns them.
    std::vector<int> release_partial();

  private:
    struct Buffer {
        std::shared_ptr<std::uint8_t[]> data;  // shared with the hash-and-write job
        int size = 0;
        std::vector<std::string> contributors;
        bool hashing = false;
    };

    DiskJobs& jobs_;
    std::int64_t& memory_in_use_;
    WritePiece write_;
    std::unordered_map<int, Buffer> buffers_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd
