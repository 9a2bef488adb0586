#include <doctest/doctest.h>

#include <chrono>
#include <set>

#include "core/pieces/picker.hpp"

using namespace btd;

namespace {

constexpr std::int64_t kPiece = 4 * kBlockSize;  // 4 blocks per piece

Bitfield all_pieces(int n) {
    Bitfield b(n);
    b.set_all();
    return b;
}

Bitfield pieces(int n, std::initializer_list<int> which) {
    Bitfield b(n);
    for (int p : which) b.set(p);
    return b;
}

std::set<int> pieces_of(const std::vector<BlockRef>& blocks) {
    std::set<int> s;
    for (const auto& b : blocks) s.insert(b.piece);
    return s;
}

// Receives every block of the piece on behalf of `peer` (after requesting it from the picker).
void receive_piece(PiecePicker& pp, int piece, PeerKey peer) {
    std::vector<PeerKey> others;
    for (int b = 0; b < pp.block_count(piece); ++b) {
        int off = b * kBlockSize;
        pp.block_received({piece, off, std::min(kBlockSize, pp.piece_size(piece) - off)}, peer,
                          others);
    }
}

}  // namespace

TEST_CASE("geometry: last piece shorter with a short last block") {
    std::int64_t total = 2 * kPiece + kBlockSize + 100;
    PiecePicker pp(3, kPiece, total, 1);
    CHECK(pp.piece_size(0) == kPiece);
    CHECK(pp.piece_size(2) == kBlockSize + 100);
    CHECK(pp.block_count(0) == 4);
    CHECK(pp.block_count(2) == 2);

    Bitfield only_last = pieces(3, {2});
    auto blocks = pp.pick(only_last, 1, 10, 1);
    REQUIRE(blocks.size() == 2);
    CHECK(blocks[0] == BlockRef{2, 0, kBlockSize});
    CHECK(blocks[1] == BlockRef{2, kBlockSize, 100});
    std::vector<PeerKey> others;
    CHECK_FALSE(pp.block_received({2, kBlockSize, kBlockSize}, 1, others));  // wrong length
    CHECK(pp.block_received(blocks[1], 1, others));
    CHECK(pp.block_received(blocks[0], 1, others));
    CHECK(pp.piece_fully_received(2));
}

TEST_CASE("availability counts follow have, bitfield and lost") {
    PiecePicker pp(5, kPiece, 5 * kPiece, 1);
    pp.peer_has_bitfield(pieces(5, {0, 1}));
    pp.peer_has_bitfield(pieces(5, {1, 2}));
    pp.peer_has_piece(4);
    pp.peer_has_piece(1);
    CHECK(pp.availability(0) == 1);
    CHECK(pp.availability(1) == 3);
    CHECK(pp.availability(2) == 1);
    CHECK(pp.availability(3) == 0);
    CHECK(pp.availability(4) == 1);
    pp.peer_lost_bitfield(pieces(5, {1, 2}));
    CHECK(pp.availability(1) == 2);
    CHECK(pp.availability(2) == 0);
    pp.peer_lost_piece(4);
    pp.peer_lost_piece(4);  // never negative
    CHECK(pp.availability(4) == 0);
    pp.peer_has_bitfield(Bitfield(7));  // wrong size: ignored
    CHECK(pp.availability(0) == 1);
}

TEST_CASE("rarest first") {
    const int n = 8;
    PiecePicker pp(n, kPiece, n * kPiece, 42);
    pp.peer_has_bitfield(all_pieces(n));
    pp.peer_has_bitfield(all_pieces(n));
    pp.peer_has_bitfield(pieces(n, {0, 1, 2, 3, 4, 6, 7}));  // 5 is the rarest (2 copies)
    pp.peer_has_bitfield(pieces(n, {0, 1, 2, 4, 6, 7}));     // 3 is next (3 copies)
    auto first = pp.pick(all_pieces(n), 1, 4, 1);
    CHECK(pieces_of(first) == std::set<int>{5});
    auto second = pp.pick(all_pieces(n), 2, 4, 1);
    CHECK(pieces_of(second) == std::set<int>{3});
    // Only pieces the peer has: a peer without 5 and 3 opens one of the others.
    auto third = pp.pick(pieces(n, {6}), 3, 4, 1);
    CHECK(pieces_of(third) == std::set<int>{6});
    // A peer with nothing we want gets nothing.
    pp.we_have(0);
    CHECK(pp.pick(pieces(n, {0}), 4, 4, 1).empty());
    CHECK_FALSE(pp.is_interesting(pieces(n, {0})));
    CHECK(pp.is_interesting(pieces(n, {0, 1})));
}

TEST_CASE("random tie-break spreads over equally rare pieces") {
    const int n = 16;
    std::set<int> chosen;
    for (std::uint32_t seed = 0; seed < 200; ++seed) {
        PiecePicker pp(n, kPiece, n * kPiece, seed);
        pp.peer_has_bitfield(all_pieces(n));
        auto blocks = pp.pick(all_pieces(n), 1, 1, 1);
        REQUIRE(blocks.size() == 1);
        chosen.insert(blocks[0].piece);
    }
    CHECK(chosen.size() >= 12);  // 200 draws over 16 pieces: nearly all get picked
}

TEST_CASE("started pieces first, closest to completion first") {
    const int n = 6;
    PiecePicker pp(n, kPiece, n * kPiece, 7);
    Bitfield all = all_pieces(n);
    pp.peer_has_bitfield(all);
    auto a = pp.pick(all, 1, 1, 1);  // starts piece pa with one block requested
    REQUIRE(a.size() == 1);
    int pa = a[0].piece;
    auto b = pp.pick(all, 2, 4, 0);  // the remaining 3 blocks of pa; may not open a new piece
    CHECK(pieces_of(b) == std::set<int>{pa});
    CHECK(b.size() == 3);
    CHECK(pp.pieces_in_progress() == 1);

    // Two started pieces: the one with fewer free blocks is served first.
    auto c = pp.pick(all, 3, 1, 1);  // opens a new piece pc
    REQUIRE(c.size() == 1);
    int pc = c[0].piece;
    CHECK(pc != pa);
    auto d = pp.pick(all, 4, 2, 1);  // 3 blocks free in pc: taken before opening anything
    CHECK(pieces_of(d) == std::set<int>{pc});
    pp.abort_request(c[0], 3);  // pc now has 2 requested, 2 free
    auto e = pp.pick(all, 5, 2, 1);
    REQUIRE(e.size() == 2);
    CHECK(pieces_of(e) == std::set<int>{pc});
    CHECK(e[0].offset == 0);  // the aborted block became free again
}

TEST_CASE("max_new_pieces is respected") {
    const int n = 10;
    PiecePicker pp(n, kPiece, n * kPiece, 3);
    Bitfield all = all_pieces(n);
    pp.peer_has_bitfield(all);
    CHECK(pp.pick(all, 1, 100, 0).empty());
    auto two = pp.pick(all, 1, 100, 2);
    CHECK(two.size() == 8);
    CHECK(pieces_of(two).size() == 2);
    CHECK(pp.pieces_in_progress() == 2);
    auto three = pp.pick(all, 2, 100, 3);
    CHECK(three.size() == 12);
    CHECK(pp.pieces_in_progress() == 5);
}

TEST_CASE("endgame only when every missing block is requested") {
    const int n = 2;
    PiecePicker pp(n, kPiece, n * kPiece, 5);
    Bitfield all = all_pieces(n);
    pp.peer_has_bitfield(all);
    pp.peer_has_bitfield(all);
    auto a = pp.pick(all, 1, 7, 2);  // 7 of 8 blocks
    CHECK(a.size() == 7);
    CHECK_FALSE(pp.in_endgame());
    auto b = pp.pick(all, 2, 5, 2);  // the last free block, then endgame blocks from peer 1
    REQUIRE(b.size() == 5);
    CHECK(pp.in_endgame());
    std::set<std::pair<int, int>> from_a;
    for (const auto& r : a) from_a.insert({r.piece, r.offset});
    for (std::size_t i = 1; i < b.size(); ++i) CHECK(from_a.count({b[i].piece, b[i].offset}));

    // Peer 1 asked for everything except one block already: it only gets that one block.
    auto again = pp.pick(all, 1, 10, 2);
    REQUIRE(again.size() == 1);
    CHECK(again[0] == b[0]);
    CHECK(pp.pick(all, 1, 10, 2).empty());  // never twice from the same peer

    // Receiving a raced block reports the other requesters.
    std::vector<PeerKey> others;
    CHECK(pp.block_received(b[1], 2, others));
    CHECK(others == std::vector<PeerKey>{1});
    CHECK_FALSE(pp.block_received(b[1], 1, others));  // duplicate
    CHECK(others.empty());
}

TEST_CASE("piece_failed makes the piece requestable again; we_have completes it") {
    const int n = 2;
    PiecePicker pp(n, kPiece, n * kPiece, 9);
    Bitfield only0 = pieces(n, {0});
    pp.peer_has_bitfield(only0);
    auto a = pp.pick(only0, 1, 10, 1);
    CHECK(a.size() == 4);
    receive_piece(pp, 0, 1);
    CHECK(pp.piece_fully_received(0));
    CHECK(pp.pick(only0, 1, 10, 1).empty());
    pp.piece_failed(0);
    CHECK_FALSE(pp.piece_fully_received(0));
    CHECK(pp.pieces_in_progress() == 0);
    auto again = pp.pick(only0, 2, 10, 1);
    CHECK(again.size() == 4);
    CHECK(pieces_of(again) == std::set<int>{0});
    receive_piece(pp, 0, 2);
    pp.we_have(0);
    CHECK(pp.have(0));
    CHECK(pp.pieces_in_progress() == 0);
    CHECK_FALSE(pp.is_complete());
    CHECK(pp.pick(only0, 2, 10, 1).empty());
    pp.we_have(1);
    CHECK(pp.is_complete());
    CHECK_FALSE(pp.in_endgame());
}

TEST_CASE("abort frees blocks; abort_all un-starts untouched pieces") {
    const int n = 3;
    PiecePicker pp(n, kPiece, n * kPiece, 11);
    Bitfield all = all_pieces(n);
    pp.peer_has_bitfield(all);
    auto a = pp.pick(all, 1, 8, 2);
    REQUIRE(a.size() == 8);
    std::vector<PeerKey> others;
    CHECK(pp.block_received(a[0], 1, others));
    pp.abort_all(1);
    // The piece with a received block stays started; the other one is back in the pool.
    CHECK(pp.pieces_in_progress() == 1);
    auto b = pp.pick(all, 2, 3, 0);
    REQUIRE(b.size() == 3);
    CHECK(pieces_of(b) == std::set<int>{a[0].piece});
    for (const auto& r : b) CHECK(r.offset != a[0].offset);
    pp.abort_request(b[0], 2);
    pp.abort_request(b[0], 2);  // twice: no effect
    auto c = pp.pick(all, 3, 1, 0);
    REQUIRE(c.size() == 1);
    CHECK(c[0] == b[0]);
    // Late block after an abort is still wanted.
    pp.abort_request(c[0], 3);
    CHECK(pp.block_received(c[0], 3, others));
}

TEST_CASE("aborts report the pieces they un-start, so a memory budget never fills for good") {
    // The caller's budget model: one buffer per opened piece, given back when an abort reports
    // the piece un-started (as Torrent::drop_requests does). Peers that take requests and go
    // away must not leave buffers behind.
    const int n = 64;
    const int budget = 4;  // pieces
    PiecePicker pp(n, kPiece, n * kPiece, 21);
    Bitfield all = all_pieces(n);
    std::set<int> buffers;
    auto request = [&](PeerKey peer, int max_blocks) {
        int max_new = std::max(0, budget - static_cast<int>(buffers.size()));
        auto blocks = pp.pick(all, peer, max_blocks, max_new);
        for (const auto& b : blocks) buffers.insert(b.piece);
        return blocks;
    };
    for (std::uint64_t peer = 100; peer < 140; ++peer) {  // 40 peers: take requests, then close
        pp.peer_has_bitfield(all);
        CHECK_FALSE(request(peer, 6).empty());
        for (int piece : pp.abort_all(peer)) CHECK(buffers.erase(piece) == 1);
        pp.peer_lost_bitfield(all);
        CHECK(buffers.size() == static_cast<std::size_t>(pp.pieces_in_progress()));
    }
    CHECK(buffers.empty());
    CHECK(pp.pieces_in_progress() == 0);
    pp.peer_has_bitfield(all);
    CHECK(request(1, 14).size() == 14);  // a good peer still gets a full queue (4 new pieces)

    SUBCASE("abort_request un-starts a piece only when its last request goes") {
        auto blocks = request(2, 2);  // the last two blocks of peer 1's fourth piece
        REQUIRE(blocks.size() == 2);
        CHECK(buffers.size() == 4);
        CHECK_FALSE(pp.abort_request(blocks[0], 2));  // peer 1 still has requests in it
        CHECK_FALSE(pp.abort_request(blocks[0], 2));  // not requested by 2 any more
        CHECK(pp.abort_all(1).size() == 3);           // its three pieces of its own
        CHECK(pp.pieces_in_progress() == 1);          // blocks[1] is still out
        CHECK(pp.abort_request(blocks[1], 2));
        CHECK(pp.pieces_in_progress() == 0);
    }
}

TEST_CASE("a piece with blocks in is kept when its peer leaves, and continued first by others") {
    const int n = 8;
    PiecePicker pp(n, kPiece, n * kPiece, 5);
    Bitfield all = all_pieces(n);
    pp.peer_has_bitfield(all);
    auto a = pp.pick(all, 1, 4, 1);
    REQUIRE(pieces_of(a).size() == 1);
    std::vector<PeerKey> others;
    CHECK(pp.block_received(a[1], 1, others));
    CHECK(pp.abort_all(1).empty());  // one block in: the piece and its buffer stay
    CHECK(pp.pieces_in_progress() == 1);
    // Another peer, with no room in the budget for a new piece, continues it.
    auto b = pp.pick(all, 2, 16, 0);
    REQUIRE(b.size() == 3);
    CHECK(pieces_of(b) == pieces_of(a));
    for (const auto& r : b) CHECK(pp.block_received(r, 2, others));
    CHECK(pp.piece_fully_received(a[0].piece));
}

TEST_CASE("pick performance on a 65536-piece torrent") {
    const int n = 65536;
    PiecePicker pp(n, kBlockSize, std::int64_t{n} * kBlockSize, 1);
    Bitfield all = all_pieces(n);
    for (int i = 0; i < 20; ++i) pp.peer_has_bitfield(all);
    Bitfield sparse(n);
    for (int p = n - 1000; p < n; ++p) sparse.set(p);  // a peer with only the last pieces
    pp.peer_has_bitfield(sparse);

    auto start = std::chrono::steady_clock::now();
    std::vector<PeerKey> others;
    int picked = 0;
    for (int round = 0; round < 5000; ++round) {
        auto blocks = pp.pick(round % 2 ? all : sparse, round % 8, 4, 4);
        for (const auto& b : blocks) {
            CHECK(pp.block_received(b, round % 8, others));
            if (pp.piece_fully_received(b.piece)) pp.we_have(b.piece);
            ++picked;
        }
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    MESSAGE("5000 picks over 65536 pieces: " << ms << " ms, " << picked << " blocks");
    // The full peers take the rarer (availability 20) pieces; the sparse peer's 1000 pieces are
    // all it can ever get, and later calls for it find nothing.
    CHECK(picked == 2500 * 4 + 1000);
    CHECK(pp.num_have() == picked);
}

TEST_CASE("skipped pieces are never opened, and a finished download needs only wanted pieces") {
    const int n = 8;
    PiecePicker pp(n, kPiece, n * kPiece, 7);
    pp.peer_has_bitfield(all_pieces(n));
    std::vector<std::uint8_t> prio(n, kPriorityDefault);
    prio[1] = prio[2] = prio[6] = kPriorityDontDownload;
    REQUIRE(pp.set_piece_priorities(prio));
    CHECK_FALSE(pp.set_piece_priorities(std::vector<std::uint8_t>(n - 1, 1)));  // wrong size

    std::set<int> opened;
    for (std::uint64_t peer = 1; peer <= 10; ++peer)
        for (int p : pieces_of(pp.pick(all_pieces(n), peer, 100, 10))) opened.insert(p);
    CHECK(opened == std::set<int>{0, 3, 4, 5, 7});
    CHECK(pp.is_interesting(pieces(n, {0})));
    CHECK_FALSE(pp.is_interesting(pieces(n, {1, 2, 6})));  // only skipped pieces: not interesting
    for (int p : opened) {
        receive_piece(pp, p, 1);
        CHECK_FALSE(pp.is_finished());
        pp.we_have(p);
    }
    CHECK(pp.is_finished());
    CHECK_FALSE(pp.is_complete());
    CHECK_FALSE(pp.in_endgame());
    CHECK(pp.pick(all_pieces(n), 1, 100, 10).empty());
    CHECK_FALSE(pp.is_interesting(all_pieces(n)));

    // Wanting a skipped piece again makes it requestable; a failed wanted piece un-finishes.
    prio[6] = 1;
    REQUIRE(pp.set_piece_priorities(prio));
    CHECK_FALSE(pp.is_finished());
    CHECK(pp.is_interesting(pieces(n, {6})));
    CHECK(pieces_of(pp.pick(all_pieces(n), 1, 100, 10)) == std::set<int>{6});
    receive_piece(pp, 6, 1);
    pp.we_have(6);
    CHECK(pp.is_finished());
    pp.piece_failed(0);
    CHECK_FALSE(pp.is_finished());
    CHECK(pieces_of(pp.pick(all_pieces(n), 1, 100, 10)) == std::set<int>{0});
}

TEST_CASE("higher priority pieces are opened first, whatever their availability") {
    const int n = 8;
    for (std::uint32_t seed = 0; seed < 20; ++seed) {
        PiecePicker pp(n, kPiece, n * kPiece, seed);
        pp.peer_has_bitfield(all_pieces(n));
        pp.peer_has_bitfield(pieces(n, {0, 1, 2, 3, 4, 5}));  // 6 and 7 are the rarest
        std::vector<std::uint8_t> prio(n, 1);
        prio[2] = kPriorityMax;
        prio[4] = kPriorityDefault;
        REQUIRE(pp.set_piece_priorities(prio));
        CHECK(pieces_of(pp.pick(all_pieces(n), 1, 4, 1)) == std::set<int>{2});
        CHECK(pieces_of(pp.pick(all_pieces(n), 2, 4, 1)) == std::set<int>{4});
        // Then the low-priority ones, rarest first.
        auto next = pieces_of(pp.pick(all_pieces(n), 3, 8, 2));
        CHECK(next == std::set<int>{6, 7});
        // A sparse peer (few pieces) goes through the other path: same order.
        PiecePicker sparse(64, kPiece, 64 * kPiece, seed);
        std::vector<std::uint8_t> p64(64, 1);
        p64[40] = kPriorityMax;
        REQUIRE(sparse.set_piece_priorities(p64));
        CHECK(pieces_of(sparse.pick(pieces(64, {3, 40}), 1, 4, 1)) == std::set<int>{40});
    }
}

TEST_CASE("a piece in progress that becomes skipped is still finished") {
    const int n = 4;
    PiecePicker pp(n, kPiece, n * kPiece, 3);
    auto first = pp.pick(pieces(n, {2}), 1, 2, 1);  // half of piece 2
    REQUIRE(pieces_of(first) == std::set<int>{2});
    std::vector<std::uint8_t> prio(n, kPriorityDefault);
    prio[2] = kPriorityDontDownload;
    REQUIRE(pp.set_piece_priorities(prio));
    CHECK(pieces_of(pp.pick(pieces(n, {2}), 1, 4, 1)) == std::set<int>{2});  // the rest of it
    // Once its requests are aborted it is not opened again.
    pp.abort_all(1);
    CHECK(pp.pick(pieces(n, {2}), 1, 4, 1).empty());
    CHECK(pp.pieces_in_progress() == 0);
}

TEST_CASE("sequential mode opens pieces in index order, higher priority first") {
    const int n = 16;
    PiecePicker pp(n, kPiece, n * kPiece, 11);
    pp.peer_has_bitfield(all_pieces(n));
    pp.peer_has_bitfield(pieces(n, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));  // 14, 15 rare
    pp.set_sequential(true);
    std::vector<int> order;
    for (std::uint64_t peer = 1; peer <= 4; ++peer)
        for (const auto& b : pp.pick(all_pieces(n), peer, 8, 2))
            if (order.empty() || order.back() != b.piece) order.push_back(b.piece);
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
    // A peer without piece 8 gets the next one it has.
    CHECK(pieces_of(pp.pick(pieces(n, {9, 12}), 5, 4, 1)) == std::set<int>{9});
    // A piece that goes back (failed) is opened before later ones.
    receive_piece(pp, 0, 1);
    pp.piece_failed(0);
    CHECK(pieces_of(pp.pick(all_pieces(n), 6, 4, 1)) == std::set<int>{0});
    // Priorities still win over order.
    std::vector<std::uint8_t> prio(n, kPriorityDefault);
    prio[13] = kPriorityMax;
    REQUIRE(pp.set_piece_priorities(prio));
    CHECK(pieces_of(pp.pick(all_pieces(n), 7, 4, 1)) == std::set<int>{13});
    CHECK(pieces_of(pp.pick(all_pieces(n), 8, 4, 1)) == std::set<int>{8});
    // Started pieces are served lowest index first, not fewest-free-blocks first: piece 2 has
    // two free blocks, piece 5 one.
    pp.abort_request({2, 0, kBlockSize}, 2);
    pp.abort_request({2, kBlockSize, kBlockSize}, 2);
    pp.abort_request({5, 0, kBlockSize}, 3);
    auto again = pp.pick(all_pieces(n), 9, 4, 0);
    REQUIRE(again.size() == 3);
    CHECK(again.front().piece == 2);
    CHECK(again.back().piece == 5);
}

TEST_CASE("a picker nobody downloads through holds no swarm state until a peer or pick needs it") {
    PiecePicker pp(16, kPiece, 16 * kPiece, 5);
    CHECK_FALSE(pp.holds_swarm_state());
    pp.we_have(3);  // restoring resume data builds nothing
    pp.set_piece_priorities(std::vector<std::uint8_t>(16, kPriorityDefault));
    CHECK_FALSE(pp.holds_swarm_state());
    CHECK(pp.num_have() == 1);
    CHECK(pp.wants(4));
    CHECK_FALSE(pp.wants(3));
    CHECK(pp.availability(4) == 0);
    CHECK_FALSE(pp.in_endgame());
    CHECK(pp.pieces_in_progress() == 0);
    CHECK_FALSE(pp.is_interesting(Bitfield(16)));
    CHECK(pp.is_interesting(pieces(16, {4})));
    pp.peer_lost_piece(4);  // nothing to take back: still nothing built
    CHECK_FALSE(pp.holds_swarm_state());

    pp.peer_has_piece(4);
    CHECK(pp.holds_swarm_state());
    CHECK(pp.availability(4) == 1);
}

TEST_CASE("release_idle_state keeps the swarm state while a peer counts or a piece is started") {
    PiecePicker pp(8, kPiece, 8 * kPiece, 5);
    Bitfield theirs = all_pieces(8);
    pp.peer_has_bitfield(theirs);
    auto blocks = pp.pick(theirs, 1, 2, 1);
    REQUIRE(blocks.size() == 2);
    CHECK_FALSE(pp.release_idle_state());  // availability counted and a piece started
    pp.peer_lost_bitfield(theirs);
    CHECK_FALSE(pp.release_idle_state());  // the started piece still holds requests
    CHECK(pp.holds_swarm_state());
    CHECK(pp.abort_all(1) == std::vector<int>{blocks[0].piece});
    CHECK(pp.release_idle_state());
    CHECK_FALSE(pp.holds_swarm_state());
}

TEST_CASE("released and rebuilt: have, priorities and picks continue as before the pause") {
    PiecePicker pp(12, kPiece, 12 * kPiece, 9);
    std::vector<std::uint8_t> prio(12, kPriorityDefault);
    prio[0] = kPriorityDontDownload;
    prio[11] = kPriorityMax;
    pp.set_piece_priorities(prio);
    Bitfield theirs = all_pieces(12);
    pp.peer_has_bitfield(theirs);
    for (int round = 0; round < 3; ++round) {
        auto blocks = pp.pick(theirs, 1, 4, 1);
        REQUIRE(pieces_of(blocks).size() == 1);
        int piece = blocks[0].piece;
        if (round == 0) CHECK(piece == 11);  // the high priority first
        receive_piece(pp, piece, 1);
        pp.we_have(piece);
    }
    // Pause: the peer leaves, nothing is in progress.
    pp.abort_all(1);
    pp.peer_lost_bitfield(theirs);
    REQUIRE(pp.release_idle_state());
    CHECK(pp.num_have() == 3);
    CHECK_FALSE(pp.is_finished());
    CHECK(pp.priority(0) == kPriorityDontDownload);
    CHECK(pp.priority(11) == kPriorityMax);
    CHECK_FALSE(pp.wants(11));

    // Resume: a peer again; the rest downloads, the skipped piece never opened.
    pp.peer_has_bitfield(theirs);
    CHECK(pp.holds_swarm_state());
    CHECK(pp.availability(5) == 1);
    std::set<int> opened;
    for (int round = 0; round < 20 && !pp.is_finished(); ++round) {
        auto blocks = pp.pick(theirs, 1, 4, 1);
        REQUIRE(pieces_of(blocks).size() == 1);
        int piece = blocks[0].piece;
        CHECK_FALSE(pp.have(piece));
        opened.insert(piece);
        receive_piece(pp, piece, 1);
        pp.we_have(piece);
    }
    CHECK(pp.is_finished());
    CHECK(pp.num_have() == 11);
    CHECK(opened.size() == 8);
    CHECK_FALSE(opened.contains(0));
}

TEST_CASE("priorities set while released apply once the swarm state is rebuilt") {
    PiecePicker pp(6, kPiece, 6 * kPiece, 3);
    std::vector<std::uint8_t> prio(6, kPriorityDontDownload);
    prio[4] = 1;
    pp.set_piece_priorities(prio);
    CHECK_FALSE(pp.holds_swarm_state());
    auto blocks = pp.pick(all_pieces(6), 1, 100, 6);
    CHECK(pieces_of(blocks) == std::set<int>{4});
    pp.set_piece_priorities(std::vector<std::uint8_t>(6, kPriorityDefault));
    CHECK(pp.priority(2) == kPriorityDefault);
    blocks = pp.pick(all_pieces(6), 2, 20, 6);  // 5 new pieces, no endgame
    CHECK(pieces_of(blocks) == std::set<int>{0, 1, 2, 3, 5});
}

TEST_CASE("pickers made without a seed get different seeds") {
    auto first = next_picker_seed();
    auto second = next_picker_seed();
    CHECK(first != second);
}
