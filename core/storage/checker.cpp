#include "core/storage/checker.hpp"

namespace btd {

namespace {

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

    bool cancelled() const { return cancel && cancel->load(); }

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
                [st, flag, piece] {
                    if (flag && flag->load()) return false;  // skip the disk work when dropped
                    try {
                        return st->check_piece(piece);
                    } catch (...) {  // e.g. bad_alloc: count the piece as bad, never terminate
                        return false;
                    }
                },
                [self, piece](bool ok) { self->finished(piece, ok); });
        }
    }

    void finished(int piece, bool ok) {
        --in_flight;
        if (cancelled()) return release();
        on_piece(piece, ok);
        if (cancelled()) return release();
        start_more();
        if (in_flight == 0 && next == pieces.size()) {
            auto done = std::move(on_done);
            release();
            if (done) done();
        }
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
                      std::function<void()> on_done, std::shared_ptr<std::atomic<bool>> cancel) {
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
    run->start_more();
}

}  // namespace btd
