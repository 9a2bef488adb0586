#include "core/peer/upload_queue.hpp"

#include <doctest/doctest.h>

using namespace btd;
using Answer = UploadQueue::Answer;

namespace {
BlockRef blk(int piece, int offset = 0) {
    return {piece, offset, kBlockSize};
}
}  // namespace

TEST_CASE("valid requests are queued once and read in order, a few at a time") {
    UploadQueue q;
    UploadQueue::Limits limits{10, 2, 50};
    CHECK(q.on_request(blk(1), true, false, true, limits).answer == Answer::queued);
    CHECK(q.on_request(blk(2), true, false, true, limits).answer == Answer::queued);
    CHECK(q.on_request(blk(3), true, false, true, limits).answer == Answer::queued);
    CHECK(q.on_request(blk(2), true, false, true, limits).answer == Answer::reject);  // repeat
    CHECK(q.next_read(false, limits) == std::nullopt);  // the socket is full
    CHECK(q.next_read(true, limits) == blk(1));
    CHECK(q.on_request(blk(1), true, false, true, limits).answer == Answer::reject);  // reading
    CHECK(q.next_read(true, limits) == blk(2));
    CHECK(q.next_read(true, limits) == std::nullopt);  // two reads in flight
    CHECK(q.read_done(blk(1)));
    CHECK_FALSE(q.read_done(blk(1)));
    CHECK(q.next_read(true, limits) == blk(3));
}

TEST_CASE("invalid requests are refused, and too many break the protocol") {
    UploadQueue q;
    UploadQueue::Limits limits{10, 2, 3};
    for (int i = 0; i < 3; ++i)
        CHECK(q.on_request(blk(i), false, false, true, limits).answer == Answer::reject);
    auto v = q.on_request(blk(9), false, false, true, limits);
    CHECK(v.answer == Answer::violation);
    CHECK(v.reason == "too many invalid requests");
}

TEST_CASE("a full queue rejects with the Fast extension and is a flood without it") {
    UploadQueue q;
    UploadQueue::Limits limits{2, 2, 50};
    q.on_request(blk(1), true, false, false, limits);
    q.on_request(blk(2), true, false, false, limits);
    CHECK(q.on_request(blk(3), true, false, true, limits).answer == Answer::reject);
    auto v = q.on_request(blk(3), true, false, false, limits);
    CHECK(v.answer == Answer::violation);
    CHECK(v.reason == "request flood: more than 2 queued");
}

TEST_CASE("while choking, only allowed-fast pieces are served; a choke drops the rest") {
    UploadQueue q;
    UploadQueue::Limits limits{10, 1, 50};
    q.set_allowed_fast({5});
    CHECK(q.on_request(blk(4), true, true, true, limits).answer == Answer::reject);
    CHECK(q.on_request(blk(5), true, true, true, limits).answer == Answer::queued);
    CHECK(q.is_allowed_fast(5));
    q.on_request(blk(4), true, false, true, limits);
    q.on_request(blk(6), true, false, true, limits);
    CHECK(q.next_read(true, limits) == blk(5));
    auto dropped = q.on_choke(true);
    CHECK(dropped == std::vector<BlockRef>{blk(4), blk(6)});
    CHECK(q.queued() == 0);
    CHECK(q.reads_in_flight() == 1);  // piece 5 is allowed fast: still served
    CHECK(q.read_done(blk(5)));
    // Without the Fast extension nothing survives a choke.
    q.on_request(blk(5), true, false, false, limits);
    CHECK(q.on_choke(false).size() == 1);
}

TEST_CASE("a cancel drops a queued request; a read in flight is dropped when it arrives") {
    UploadQueue q;
    UploadQueue::Limits limits{10, 1, 50};
    q.on_request(blk(1), true, false, true, limits);
    q.on_request(blk(2), true, false, true, limits);
    CHECK(q.next_read(true, limits) == blk(1));
    CHECK(q.cancel(blk(2)));
    CHECK_FALSE(q.cancel(blk(2)));
    CHECK_FALSE(q.cancel(blk(1)));  // being read: not queued any more
    CHECK(q.queued() == 0);
}

TEST_CASE(
    "the default queue takes libtorrent's 2000 requests; a block may be asked again once "
    "it is served, cancelled or choked away") {
    UploadQueue q;
    UploadQueue::Limits limits;  // defaults: what we announce as reqq
    CHECK(limits.max_queued >= 2000);
    for (int i = 0; i < 2000; ++i)
        REQUIRE(
            q.on_request(blk(i / 16, (i % 16) * kBlockSize), true, false, false, limits).answer ==
            Answer::queued);
    CHECK(q.queued() == 2000);
    CHECK(q.on_request(blk(0), true, false, true, limits).answer == Answer::reject);  // repeat
    // Served: read and done, then the same block is a new request.
    auto first = q.next_read(true, limits);
    REQUIRE(first == blk(0));
    CHECK(q.read_done(*first));
    CHECK(q.on_request(blk(0), true, false, false, limits).answer == Answer::queued);
    // Cancelled, then asked again.
    CHECK(q.cancel(blk(1, 0)));
    CHECK(q.on_request(blk(1, 0), true, false, false, limits).answer == Answer::queued);
    // Choked away (reads too), then asked again after the unchoke.
    auto reading = q.next_read(true, limits);
    REQUIRE(reading);
    CHECK(q.on_choke(false).size() == 2000);
    CHECK(q.queued() == 0);
    CHECK(q.on_request(*reading, true, false, false, limits).answer == Answer::queued);
    CHECK_FALSE(q.read_done(*reading));  // the old read is ignored, the new request stays
    CHECK(q.on_request(*reading, true, false, false, limits).answer == Answer::reject);
}
