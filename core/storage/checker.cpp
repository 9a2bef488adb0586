#include "core/storage/checker.hpp"

#include <algorithm>

#include "core/storage/file_stat.hpp"

namespace btd {

namespace {

// What is on disk before a check reads anything. Disk work: runs on the pool.
struct DiskProbe {
    std::int64_t bytes_on_disk = 0;  // of the torrent's (non-pad) files
    // Pieces with bytes past the end of a file on disk (missing or short): they cannot verify,
    // so they are not read, and a torrent added with no data builds no file state for its check.
    // Empty when a piece's bytes may be elsewhere (the part store of skipped files).
    std::vector<bool> cannot_verify;
};

DiskProbe probe_disk(const Storage& storage) {
    const auto& meta = storage.metainfo();
    auto now = stat_files(meta, storage.download_dir());
    DiskProbe probe;
    const bool files_only = !storage.may_read_part_store();
    if (files_only) probe.cannot_verify.assign(static_cast<std::size_t>(meta.num_pieces()), false);
    for (std::size_t i = 0; i < now.size() && i < meta.files.size(); ++i) {
        const auto& f = meta.files[i];
        if (f.pad) continue;
        const std::int64_t on_disk = std::clamp<std::int64_t>(now[i].size, 0, f.length);
        probe.bytes_on_disk += on_disk;
        if (!files_only || on_disk == f.length || meta.piece_length <= 0) continue;
        auto first = (f.offset + on_disk) / meta.piece_length;
        auto last = (f.offset + f.length - 1) / meta.piece_length;
        for (auto p = first; p <= last && p < meta.num_pieces(); ++p)
            probe.cannot_verify[static_cast<std::size_t>(p)] = true;
    }
    return probe;
}

// Lives as long as a job or the io thread still refers to it; only touched on io's thread.
struct CheckRun : std::enable_shared_from_this<CheckRun> {
    DiskPool* pool = nullptr;
    boost::asio::io_context* io = nullptr;
    std::shared_ptr<Storage> storage;
    std::vector<int> pieces;
    std::size_t next = 0;
    std::size_t in_flight = 0;
    std::function<void(int, bool)> on_piece;
    std::function<void()> on_done;
    std::shared_ptr<std::atomic<bool>> cancel;
    CheckOptions options;
    bool holds_turn = false;

    bool cancelled() const { return cancel && cancel->load(); }

    // Pieces that cannot verify are reported at once; the rest are read and hashed.
    void begin(const DiskProbe& probe) {
        if (cancelled()) return release();
        if (!probe.cannot_verify.empty()) {
            std::vector<int> readable;
            for (int piece : pieces) {
                if (!probe.cannot_verify[static_cast<std::size_t>(piece)]) {
                    readable.push_back(piece);
                    continue;
                }
                on_piece(piece, false);
                if (cancelled()) return release();
            }
            pieces = std::move(readable);
        }
        if (pieces.empty()) return finish();
        const std::int64_t at_most =
            static_cast<std::int64_t>(pieces.size()) * storage->metainfo().piece_length;
        queue_or_start(std::min(at_most, probe.bytes_on_disk));
    }

    void finish() {
        auto done = std::move(on_done);
        release();
        give_back_turn();  // the next torrent's check starts reading now
        if (done) done();
    }

    // Small checks start at once; long ones wait for their turn on the pool's queue.
    void queue_or_start(std::int64_t bytes_to_read) {
        if (cancelled()) return release();
        if (bytes_to_read <= options.queue_above_bytes) return start_more();
        auto self = shared_from_this();
        pool->check_turns().enqueue(
            options.priority,
            [self] {
                self->holds_turn = true;
                if (!self->cancelled()) return self->start_more();
                self->release();
                self->give_back_turn();
            },
            [self] { return self->cancelled(); });
    }

    void give_back_turn() {
        if (!holds_turn) return;
        holds_turn = false;
        pool->check_turns().finished();
    }

    // Every started job has reported back after a cancel.
    void cancelled_and_idle() {
        release();
        if (in_flight == 0) give_back_turn();
    }

    void start_more() {
        const std::size_t target = std::size_t{pool->threads()} * 2;
        while (!cancelled() && in_flight < target && next < pieces.size()) {
            int piece = pieces[next++];
            ++in_flight;
            auto self = shared_from_this();
            auto flag = cancel;
            auto st = storage;
            pool->submit(
                *io,
                [st, flag, piece, counters = pool] {
                    if (flag && flag->load()) return false;  // skip the disk work when dropped
                    try {
                        bool ok = st->check_piece(piece);
                        counters->note_hashed(DiskJobKind::check, st->piece_size(piece));
                        return ok;
                    } catch (...) {  // e.g. bad_alloc: count the piece as bad, never terminate
                        return false;
                    }
                },
                [self, piece](bool ok) { self->finished(piece, ok); }, DiskJobKind::check);
        }
    }

    void finished(int piece, bool ok) {
        --in_flight;
        if (cancelled()) return cancelled_and_idle();
        on_piece(piece, ok);
        if (cancelled()) return cancelled_and_idle();
        start_more();
        if (in_flight == 0 && next == pieces.size()) finish();
    }

    // Drops the owner's callbacks as soon as they can no longer be called.
    void release() {
        on_piece = nullptr;
        on_done = nullptr;
    }
};

}  // namespace

void check_all_pieces(DiskPool& pool, boost::asio::io_context& io, std::shared_ptr<Storage> storage,
                      std::vector<bool> pieces_to_check,
                      std::function<void(int piece, bool ok)> on_piece,
                      std::function<void()> on_done, std::shared_ptr<std::atomic<bool>> cancel,
                      CheckOptions options) {
    auto run = std::make_shared<CheckRun>();
    run->pool = &pool;
    run->io = &io;
    const int n = storage->metainfo().num_pieces();
    for (int p = 0; p < n; ++p)
        if (pieces_to_check.empty() ||
            (static_cast<std::size_t>(p) < pieces_to_check.size() && pieces_to_check[p]))
            run->pieces.push_back(p);
    // Fresh descriptors: a cached one may still point at a file deleted or replaced since.
    storage->close_files();
    run->storage = std::move(storage);
    run->on_piece = std::move(on_piece);
    run->on_done = std::move(on_done);
    run->cancel = std::move(cancel);
    run->options = options;
    if (run->pieces.empty()) {
        // Still asynchronous, so callers see the same ordering either way.
        boost::asio::post(io, [run] {
            if (run->cancelled()) return run->release();
            auto done = std::move(run->on_done);
            run->release();
            if (done) done();
        });
        return;
    }
    pool.submit(
        io, [storage = run->storage] { return probe_disk(*storage); },
        [run](DiskProbe probe) { run->begin(probe); });
}

}  // namespace btd
