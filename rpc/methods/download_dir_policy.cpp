#include "rpc/methods/download_dir_policy.hpp"

#include <algorithm>
#include <string>

#include "rpc/transport/errors.hpp"

namespace btd::rpc {
namespace {

namespace fs = std::filesystem;

fs::path resolved(const fs::path& path) {
    std::error_code ec;
    auto canonical = fs::weakly_canonical(path, ec);
    if (ec) canonical = path.lexically_normal();
    if (canonical.has_relative_path() && canonical.filename().empty())
        canonical = canonical.parent_path();  // "/srv/dl/" -> "/srv/dl"
    return canonical;
}

}  // namespace

bool path_within(const fs::path& path, const fs::path& dir) {
    auto mismatch = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
    return mismatch.first == dir.end();
}

fs::path checked_download_dir(std::string_view dir, const std::vector<fs::path>& allowed) {
    if (dir.empty()) throw invalid_params("download_dir must not be empty");
    fs::path path{std::string(dir)};
    if (!path.is_absolute())
        throw invalid_params("download_dir must be an absolute path (it is '" + std::string(dir) +
                             "')");
    path = path.lexically_normal();
    if (allowed.empty()) return path;
    auto real = resolved(path);
    std::string list;
    for (const auto& root : allowed) {
        if (path_within(real, resolved(root))) return path;
        list += (list.empty() ? "" : ", ") + root.string();
    }
    throw invalid_params("download_dir " + path.string() +
                         " is outside the allowed_download_dirs setting (" + list + ")");
}

}  // namespace btd::rpc
