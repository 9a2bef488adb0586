// libFuzzer target: the job list in the state dir (daemon/job_store), as btd loads it at start.
// The input is a stored .torrent and its resume file separated by the line "--resume--"
// (without the separator it is all .torrent). The files are named after the torrent's info-hash
// when it parses (so the resume file is read), else after a fixed one.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/metainfo/metainfo.hpp"
#include "daemon/job_store.hpp"

namespace fs = std::filesystem;
using namespace btd;

namespace {

constexpr std::string_view kSeparator = "\n--resume--\n";
const Sha1Hash kFallbackId = *sha1_from_hex("0dd3ba470adb6e6c0831ecc2f49b5d132296cb28");

const fs::path& state_dir() {
    static const fs::path dir = [] {
        std::string pattern = (fs::temp_directory_path() / "btd-fuzz-jobs-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        spdlog::set_level(spdlog::level::off);  // the messages are still formatted
        return fs::path(pattern);
    }();
    return dir;
}

void write(const fs::path& file, std::string_view bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto cut = input.find(kSeparator);
    std::string_view torrent = input.substr(0, cut);
    std::optional<std::string_view> resume;
    if (cut != std::string_view::npos) resume = input.substr(cut + kSeparator.size());

    Sha1Hash id = kFallbackId;
    try {
        id = parse_metainfo(torrent).info_hash;
    } catch (const MetainfoError&) {
    }
    fs::remove_all(state_dir());
    fs::create_directories(state_dir());
    daemon::JobStore store(state_dir());
    store.prepare();
    write(store.torrent_path(id), torrent);
    if (resume) write(store.resume_path(id), *resume);
    auto jobs = store.load_all();  // never throws for bad content
    if (jobs.size() > 1) std::abort();
    if (jobs.size() == 1 && jobs[0].meta.info_hash != id) std::abort();
    return 0;
}
