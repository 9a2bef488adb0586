#include "core/session/queue.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace btd;
using queue::Entry;

namespace {
Entry downloading() {
    Entry e;
    e.wants_to_run = true;
    return e;
}
Entry seeding() {
    Entry e = downloading();
    e.seeding = true;
    return e;
}
Sha1Hash id(std::uint8_t n) {
    Sha1Hash h{};
    h[0] = n;
    return h;
}
std::vector<bool> bools(std::initializer_list<int> v) {
    return std::vector<bool>(v.begin(), v.end());
}
}  // namespace

TEST_CASE("downloads take their slots in queue order; the rest wait") {
    std::vector<Entry> all(5, downloading());
    CHECK(queue::may_run(all, {2, -1}) == bools({1, 1, 0, 0, 0}));
    CHECK(queue::may_run(all, {-1, -1}) == bools({1, 1, 1, 1, 1}));
    CHECK(queue::may_run(all, {0, -1}) == bools({0, 0, 0, 0, 0}));
}

TEST_CASE("seeds and downloads have separate slots") {
    std::vector<Entry> all{seeding(), downloading(), seeding(), downloading(), seeding()};
    CHECK(queue::may_run(all, {1, 2}) == bools({1, 1, 1, 0, 0}));
    CHECK(queue::may_run(all, {2, 0}) == bools({0, 1, 0, 1, 0}));
}

TEST_CASE("paused and erroring torrents hold no slot and may not run") {
    std::vector<Entry> all(3, downloading());
    all[0].wants_to_run = false;
    CHECK(queue::may_run(all, {1, -1}) == bools({0, 1, 0}));
}

TEST_CASE("a stalled torrent keeps running but gives its slot to the next one") {
    std::vector<Entry> all(3, downloading());
    all[0].stalled = true;
    CHECK(queue::may_run(all, {1, -1}) == bools({1, 1, 0}));
    all[1].stalled = true;
    CHECK(queue::may_run(all, {1, -1}) == bools({1, 1, 1}));
}

TEST_CASE("a force-started torrent runs beyond the limits and takes no slot") {
    std::vector<Entry> all(3, downloading());
    all[2].forced = true;
    CHECK(queue::may_run(all, {1, -1}) == bools({1, 0, 1}));
    all[2].wants_to_run = false;  // paused wins over forced
    CHECK(queue::may_run(all, {1, -1}) == bools({1, 0, 0}));
}

TEST_CASE("queue moves reorder like Transmission's queue-move-*") {
    std::vector<Sha1Hash> order{id(0), id(1), id(2), id(3), id(4)};
    using queue::Move;
    CHECK(queue::moved(order, {id(3), id(1)}, Move::top) ==
          std::vector<Sha1Hash>{id(1), id(3), id(0), id(2), id(4)});
    CHECK(queue::moved(order, {id(0), id(2)}, Move::bottom) ==
          std::vector<Sha1Hash>{id(1), id(3), id(4), id(0), id(2)});
    CHECK(queue::moved(order, {id(0), id(1), id(3)}, Move::up) ==
          std::vector<Sha1Hash>{id(0), id(1), id(3), id(2), id(4)});
    CHECK(queue::moved(order, {id(3), id(4), id(1)}, Move::down) ==
          std::vector<Sha1Hash>{id(0), id(2), id(1), id(3), id(4)});
    CHECK(queue::parse_move("up") == Move::up);
    CHECK_FALSE(queue::parse_move("sideways"));
}

TEST_CASE("placing a torrent at a position shifts the others, clamped like Transmission's") {
    std::vector<Sha1Hash> order{id(0), id(1), id(2), id(3)};
    CHECK(queue::placed(order, id(3), 1) == std::vector<Sha1Hash>{id(0), id(3), id(1), id(2)});
    CHECK(queue::placed(order, id(0), 2) == std::vector<Sha1Hash>{id(1), id(2), id(0), id(3)});
    CHECK(queue::placed(order, id(1), 99) == std::vector<Sha1Hash>{id(0), id(2), id(3), id(1)});
    CHECK(queue::placed(order, id(2), -5) == std::vector<Sha1Hash>{id(2), id(0), id(1), id(3)});
    CHECK(queue::placed(order, id(9), 0) == order);  // unknown: nothing moves
}

TEST_CASE("positions stay dense across adds, removes and moves") {
    queue::Positions p;
    for (std::uint8_t i = 0; i < 4; ++i) p.add(id(i));
    CHECK(p.position(id(3)) == 3);
    p.remove(id(1));
    CHECK(p.order() == std::vector<Sha1Hash>{id(0), id(2), id(3)});
    CHECK(p.position(id(3)) == 2);
    auto changed = p.reorder({id(3), id(0), id(2)});
    CHECK(changed.size() == 3);
    CHECK(p.position(id(3)) == 0);
    p.add(id(9));
    CHECK(p.position(id(9)) == 3);
    CHECK(p.position(id(42)) == -1);
}

TEST_CASE("torrents restored in any order with their saved positions get them back") {
    queue::Positions p;
    p.add(id(7), 2);
    p.add(id(5), 0);
    p.add(id(6), 1);
    p.add(id(8));  // a new one goes last
    CHECK(p.order() == std::vector<Sha1Hash>{id(5), id(6), id(7), id(8)});
}

TEST_CASE("restoring 20,000 torrents in saved order is not quadratic, and a late one fits in") {
    queue::Positions p;
    auto big_id = [](int i) {
        Sha1Hash h{};
        h[0] = static_cast<std::uint8_t>(i >> 8);
        h[1] = static_cast<std::uint8_t>(i);
        h[2] = 1;
        return h;
    };
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20000; ++i) p.add(big_id(i), i);
    // Renumbering on every add took about 20 s here; once at the end takes milliseconds.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(p.position(big_id(19999)) == 19999);
    p.add(id(0), 0);  // out of order (ties by id): everyone after it moves down one
    CHECK(p.position(id(0)) == 0);
    CHECK(p.position(big_id(0)) == 1);
    p.remove(big_id(5));
    p.add(id(2));
    CHECK(p.position(big_id(6)) == 6);
    CHECK(p.position(id(2)) == 20000);
    CHECK(p.order().size() == 20001);
}
