// libFuzzer target: the .torrent parser (core/metainfo). A torrent that parses must keep the
// promises of metainfo.hpp: safe relative paths, files laid end to end, pieces covering them.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/metainfo/metainfo.hpp"

namespace {

void check_invariants(const btd::Metainfo& m) {
    std::int64_t offset = 0;
    for (auto& f : m.files) {
        if (f.path.empty() || f.path.is_absolute() || f.length < 0 || f.offset != offset)
            std::abort();
        for (auto& part : f.path)
            if (part == ".." || part == "." || part.empty()) std::abort();
        offset += f.length;
    }
    if (offset != m.total_size || m.piece_length <= 0) std::abort();
    std::int64_t pieces = (m.total_size + m.piece_length - 1) / m.piece_length;
    if (pieces != m.num_pieces()) std::abort();
    if (m.num_pieces() > 0) (void)m.piece_size(m.num_pieces() - 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        check_invariants(btd::parse_metainfo(input));
    } catch (const btd::MetainfoError&) {
    }
    return 0;
}
