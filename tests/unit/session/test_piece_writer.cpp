#include "core/session/piece_writer.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include <cstring>
#include <optional>

using namespace btd;

namespace {
// Runs disk jobs when the test says so, or never.
struct ManualDiskJobs : DiskJobs {
    std::vector<Work> queued;
    std::vector<Continuation> finished;
    void run(Work work) override { queued.push_back(std::move(work)); }
    void run_work() {  // "on the pool"
        for (auto& w : queued) finished.push_back(w());
        queued.clear();
    }
    void run_continuations() {  // "on the network thread"
        auto done = std::move(finished);
        finished.clear();
        for (auto& c : done) c();
    }
};

std::string piece_bytes(int size, char seed) {
    std::string s(size, '\0');
    for (int i = 0; i < size; ++i) s[i] = static_cast<char>(seed + i * 7);
    return s;
}

struct Fixture {
    ManualDiskJobs jobs;
    std::int64_t memory = 0;
    std::vector<std::pair<int, std::string>> written;
    PieceWriter::WriteResult next_result;
    std::optional<PieceWriter> writer;
    Fixture() {
        writer.emplace(jobs, memory, [this](int piece, std::span<const std::uint8_t> data) {
            written.emplace_back(piece, std::string(data.begin(), data.end()));
            return next_result;
        });
    }
    // Fills `piece` from two senders, half each.
    void fill(int piece, const std::string& bytes) {
        int half = static_cast<int>(bytes.size() / 2);
        writer->add_block(piece, 0, {bytes.data(), std::size_t(half)}, int(bytes.size()), "a");
        writer->add_block(piece, half, {bytes.data() + half, bytes.size() - half},
                          int(bytes.size()), "b");
    }
};
}  // namespace

TEST_CASE("a piece is assembled, hashed and written on the pool, then its memory goes back") {
    Fixture f;
    auto bytes = piece_bytes(32 * 1024, 1);
    f.writer->open(3, 32 * 1024);
    CHECK(f.memory == 32 * 1024);
    f.fill(3, bytes);
    std::optional<PieceWriter::Outcome> outcome;
    f.writer->hash_and_write(3, sha1(bytes), [&](PieceWriter::Outcome o) { outcome = o; });
    CHECK(f.written.empty());  // nothing runs inline
    f.jobs.run_work();
    REQUIRE(f.written.size() == 1);
    CHECK(f.written[0].first == 3);
    CHECK(f.written[0].second == bytes);
    CHECK_FALSE(outcome);  // the result comes back on the network thread
    CHECK(f.writer->contains(3));
    f.jobs.run_continuations();
    REQUIRE(outcome);
    CHECK(outcome->hash_ok);
    CHECK(outcome->write.error.empty());
    CHECK(outcome->contributors == std::vector<std::string>{"a", "b"});
    CHECK_FALSE(f.writer->contains(3));
    CHECK(f.memory == 0);
}

TEST_CASE("a piece that fails its hash is not written; its senders are named") {
    Fixture f;
    auto bytes = piece_bytes(16 * 1024, 2);
    f.fill(0, bytes);
    CHECK(f.memory == 16 * 1024);  // add_block opens the buffer itself
    std::optional<PieceWriter::Outcome> outcome;
    f.writer->hash_and_write(0, sha1(std::string("other")),
                             [&](PieceWriter::Outcome o) { outcome = o; });
    f.jobs.run_work();
    f.jobs.run_continuations();
    CHECK(f.written.empty());
    REQUIRE(outcome);
    CHECK_FALSE(outcome->hash_ok);
    CHECK(outcome->contributors == std::vector<std::string>{"a", "b"});
    CHECK(f.memory == 0);
}

TEST_CASE("a write error comes back with the outcome") {
    Fixture f;
    auto bytes = piece_bytes(1000, 3);
    f.fill(1, bytes);
    f.next_result.error = "disk full";
    f.next_result.transient = true;
    std::optional<PieceWriter::Outcome> outcome;
    f.writer->hash_and_write(1, sha1(bytes), [&](PieceWriter::Outcome o) { outcome = o; });
    f.jobs.run_work();
    f.jobs.run_continuations();
    REQUIRE(outcome);
    CHECK(outcome->hash_ok);
    CHECK(outcome->write.error == "disk full");
    CHECK(outcome->write.transient);
}

TEST_CASE("dropping partial pieces keeps the ones being hashed") {
    Fixture f;
    auto bytes = piece_bytes(1000, 4);
    f.writer->open(1, 1000);
    f.writer->open(2, 1000);
    f.fill(3, bytes);
    f.writer->hash_and_write(3, sha1(bytes), [](PieceWriter::Outcome) {});
    auto dropped = f.writer->release_partial();
    std::sort(dropped.begin(), dropped.end());
    CHECK(dropped == std::vector<int>{1, 2});
    CHECK(f.writer->contains(3));
    CHECK(f.memory == 1000);
    f.writer->release(3);
    CHECK(f.memory == 0);
    CHECK(f.writer->empty());
}

// The writer (and the torrent owning it) may go before its jobs have run: the job owns the
// buffer it hashes and writes, so it never reads freed memory (ASan would report it), and the
// result is dropped instead of reaching a destroyed owner.
TEST_CASE("a job outlives its writer: it still hashes and writes its own copy, nothing reports") {
    Fixture f;
    auto bytes = piece_bytes(64 * 1024, 5);
    f.fill(7, bytes);
    bool reported = false;
    f.writer->hash_and_write(7, sha1(bytes), [&](PieceWriter::Outcome) { reported = true; });
    f.writer.reset();
    CHECK(f.memory == 0);  // the budget is given back with the owner
    f.jobs.run_work();
    REQUIRE(f.written.size() == 1);
    CHECK(f.written[0].second == bytes);  // the hash matched: the bytes were intact
    f.jobs.run_continuations();
    CHECK_FALSE(reported);
}
