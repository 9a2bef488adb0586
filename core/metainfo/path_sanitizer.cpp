#include "core/metainfo/path_sanitizer.hpp"

#include <unordered_set>

#include "core/metainfo/metainfo.hpp"

namespace btd {

std::string printable_path(std::string_view path) {
    static constexpr char kHex[] = "0123456789abcdef";
    static constexpr std::size_t kMaxShown = 200;
    std::string out;
    for (char c : path.substr(0, kMaxShown)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\' || c == '"') {
            out += '\\';
            out += 'x';
            out += kHex[u >> 4];
            out += kHex[u & 15];
        } else {
            out += c;  // UTF-8 bytes pass through so names stay readable
        }
    }
    if (path.size() > kMaxShown) out += "...";
    return out;
}

void check_path_component(std::string_view component, std::string_view where) {
    auto fail = [&](const std::string& why) {
        throw MetainfoError("unsafe path in torrent: " + std::string(where) + ": " + why);
    };
    if (component.empty()) fail("empty path component");
    if (component == "." || component == "..")
        fail("path component \"" + std::string(component) + "\" is not allowed");
    if (component.size() > kMaxPathComponentBytes)
        fail("path component is " + std::to_string(component.size()) + " bytes long (limit " +
             std::to_string(kMaxPathComponentBytes) + ")");
    for (char c : component) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '/') fail("path component \"" + printable_path(component) + "\" contains '/'");
        if (u < 0x20 || u == 0x7f)
            fail("path component \"" + printable_path(component) +
                 "\" contains a control character");
    }
}

void check_path_conflicts(const std::vector<std::string>& paths) {
    std::unordered_set<std::string_view> files;
    files.reserve(paths.size());
    for (const auto& p : paths) {
        if (!files.insert(p).second)
            throw MetainfoError("invalid torrent: two files have the same path \"" +
                                printable_path(p) + "\"");
    }
    for (const auto& p : paths) {
        // Every proper prefix ending before a '/' is a directory; it must not also be a file.
        for (std::size_t slash = p.find('/'); slash != std::string::npos;
             slash = p.find('/', slash + 1)) {
            const std::string_view dir(p.data(), slash);
            if (files.contains(dir))
                throw MetainfoError("invalid torrent: \"" + printable_path(dir) +
                                    "\" is both a file and the directory of \"" +
                                    printable_path(p) + "\"");
        }
    }
}

}  // namespace btd
