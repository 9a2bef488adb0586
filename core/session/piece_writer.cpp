#include "core/session/piece_writer.hpp"

#include <algorithm>
#include <cstring>

namespace btd {

PieceWriter::PieceWriter(DiskJobs& jobs, std::int64_t& memory_in_use, WritePiece write)
    : jobs_(jobs), memory_in_use_(memory_in_use), write_(std::move(write)) {}

PieceWriter::~PieceWriter() {
    for (auto& [piece, buf] : buffers_) memory_in_use_ -= buf.size;
}

void PieceWriter::open(int piece, int size) {
    auto& buf = buffers_[piece];
    if (buf.data) return;
    buf.size = size;
    buf.data = std::make_shared_for_overwrite<std::uint8_t[]>(size);
    memory_in_use_ += size;
}

void PieceWriter::add_block(int piece, int offset, std::span<const char> payload, int piece_size,
                            const std::string& contributor) {
    open(piece, piece_size);
    auto& buf = buffers_[piece];
    std::memcpy(buf.data.get() + offset, payload.data(), payload.size());
    if (std::find(buf.contributors.begin(), buf.contributors.end(), contributor) ==
        buf.contributors.end())
        buf.contributors.push_back(contributor);
}

void PieceWriter::hash_and_write(int piece, const Sha1Hash& expected,
                                 std::function<void(Outcome)> done) {
    auto& buf = buffers_[piece];
    buf.hashing = true;
    jobs_.run([data = buf.data, size = static_cast<std::size_t>(buf.size), expected, piece,
               write = write_, weak = std::weak_ptr<bool>(alive_), this,
               done = std::move(done)]() mutable -> DiskJobs::Continuation {
        Outcome out;
        std::span<const std::uint8_t> bytes(data.get(), size);
        out.hash_ok = sha1(bytes) == expected;
        if (out.hash_ok) out.write = write(piece, bytes);
        data.reset();  // the buffer goes back on the pool thread once written
        return [weak, this, piece, size, out = std::move(out), done = std::move(done)]() mutable {
            if (!weak.lock()) return;
            jobs_.note_hashed(static_cast<std::int64_t>(size));
            auto it = buffers_.find(piece);
            if (it != buffers_.end()) out.contributors = std::move(it->second.contributors);
            release(piece);
            done(std::move(out));
        };
    });
}

void PieceWriter::release(int piece) {
    auto it = buffers_.find(piece);
    if (it == buffers_.end()) return;
    memory_in_use_ -= it->second.size;
    buffers_.erase(it);
}

std::vector<int> PieceWriter::release_partial() {
    std::vector<int> partial;
    for (auto& [piece, buf] : buffers_)
        if (!buf.hashing) partial.push_back(piece);
    for (int piece : partial) release(piece);
    return partial;
}

}  // namespace btd
