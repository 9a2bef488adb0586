#pragma once
// Full hash check of a torrent's data on the disk pool, using every pool thread.
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/storage/disk_pool.hpp"
#include "core/storage/storage.hpp"

namespace btd {

struct CheckOptions {
    // Among checks waiting for their turn, the highest priority starts first (the session
    // passes the time the torrent was added: newest first).
    std::int64_t priority = 0;
    // A check that would read at most this many bytes (counting only what is on disk) skips the
    // queue: a new torrent with no data, or a few pieces of one file, never waits for another
    // torrent's long check.
    std::int64_t queue_above_bytes = 64 * 1024 * 1024;
};

// Hashes the pieces marked in `pieces_to_check` (empty = every piece) and reports each result
// with on_piece(piece, ok) on `io`'s thread, then on_done() once all are reported. Keeps about
// two jobs per pool thread in flight (one piece each), so other disk jobs interleave with a long
// check instead of queueing behind it. Closes the storage's cached files first so files deleted
// or replaced behind our back are seen as they are now.
//
// Long checks take turns (pool.check_turns(), one at a time, see CheckOptions), so many torrents
// checked at once (after a crash) read the disk one after another instead of all together; until
// its turn a check reports nothing (its progress stays at 0).
//
// Cancelling: set *cancel = true on io's thread. From then on no callback is invoked and no new
// piece is started; jobs already running finish in the background holding only the Storage
// (shared) and the callbacks (destroyed unused), so the owner may go away right after.
// Must be called on io's thread (or before io runs). `io` and `pool` must outlive the check.
void check_all_pieces(DiskPool& pool, boost::asio::io_context& io, std::shared_ptr<Storage> storage,
                      std::vector<bool> pieces_to_check,
                      std::function<void(int piece, bool ok)> on_piece,
                      std::function<void()> on_done, std::shared_ptr<std::atomic<bool>> cancel,
                      CheckOptions options = {});

}  // namespace btd
