#include "core/session/piece_layout.hpp"

#include <algorithm>
#include <string>

#include "core/pieces/picker.hpp"

namespace btd::piece_layout {

std::pair<int, int> piece_span(const Metainfo& meta, std::int64_t begin, std::int64_t end) {
    return {static_cast<int>(begin / meta.piece_length),
            static_cast<int>((end - 1) / meta.piece_length)};
}

void mark_file_pieces(const Metainfo& meta, int file, std::vector<bool>& pieces) {
    const auto& f = meta.files[file];
    if (f.length == 0) return;
    auto [first, last] = piece_span(meta, f.offset, f.offset + f.length);
    for (int p = first; p <= last; ++p) pieces[p] = true;
}

std::vector<bool> pieces_past_file_ends(const Metainfo& meta,
                                        const std::vector<FileIdentity>& now) {
    std::vector<bool> out(meta.num_pieces(), false);
    for (std::size_t i = 0; i < meta.files.size(); ++i) {
        const auto& f = meta.files[i];
        std::int64_t on_disk = std::max<std::int64_t>(0, now[i].size);
        if (f.pad || f.length == 0 || on_disk >= f.length) continue;
        auto [first, last] = piece_span(meta, f.offset + on_disk, f.offset + f.length);
        for (int p = first; p <= last; ++p) out[p] = true;
    }
    return out;
}

std::int64_t have_bytes(const Metainfo& meta, const Bitfield& have) {
    std::int64_t bytes = static_cast<std::int64_t>(have.count()) * meta.piece_length;
    int last = meta.num_pieces() - 1;
    // The count alone answers for none and all, without reading the bits (a cache miss per
    // torrent in a list of 10,000).
    bool has_last = have.count() == 0                                             ? false
                    : have.count() == static_cast<std::size_t>(meta.num_pieces()) ? true
                                                                                  : have.test(last);
    if (last >= 0 && has_last) bytes -= meta.piece_length - meta.piece_size(last);
    return bytes;
}

std::int64_t file_have_bytes(const Metainfo& meta, const FileEntry& file, const Bitfield& have) {
    if (file.length == 0) return 0;
    std::int64_t bytes = 0;
    auto [first, last] = piece_span(meta, file.offset, file.offset + file.length);
    for (int p = first; p <= last; ++p) {
        if (!have.test(p)) continue;
        std::int64_t piece_begin = std::int64_t(p) * meta.piece_length;
        std::int64_t begin = std::max(file.offset, piece_begin);
        std::int64_t end = std::min(file.offset + file.length, piece_begin + meta.piece_size(p));
        bytes += end - begin;
    }
    return bytes;
}

PiecePriorities piece_priorities(const Metainfo& meta, const std::vector<std::uint8_t>& files) {
    PiecePriorities out;
    out.pieces.assign(meta.num_pieces(), kPriorityDontDownload);
    out.skipped_files.assign(meta.files.size(), false);
    for (std::size_t f = 0; f < meta.files.size(); ++f) {
        const auto& file = meta.files[f];
        if (file.pad || file.length == 0) continue;
        auto priority = files[f];
        if (priority != kPriorityDontDownload)
            out.wanted_size += file.length;
        else
            out.skips_files = out.skipped_files[f] = true;
        auto [first, last] = piece_span(meta, file.offset, file.offset + file.length);
        for (int p = first; p <= last; ++p) out.pieces[p] = std::max(out.pieces[p], priority);
    }
    return out;
}

void check_file_priorities(const Metainfo& meta, const std::vector<int>& priorities) {
    if (priorities.size() != meta.files.size())
        throw SessionError(SessionError::Code::invalid_argument,
                           "file priorities: expected " + std::to_string(meta.files.size()) +
                               " values (one per file), got " + std::to_string(priorities.size()));
    for (int p : priorities)
        if (p < kPriorityDontDownload || p > kPriorityMax)
            throw SessionError(SessionError::Code::invalid_argument,
                               "file priority " + std::to_string(p) + " is outside 0..7");
}

}  // namespace btd::piece_layout
