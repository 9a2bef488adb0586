// libFuzzer target: <state>/settings.json, the settings changed at run time
// (daemon/runtime_settings): parsed, then read from a real file as btd does at start (a corrupt
// file is set aside), applied over the config, logged and merged as btd does after a reload and
// after session.set.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "daemon/runtime_settings.hpp"

namespace fs = std::filesystem;
using namespace btd;

namespace {

const fs::path& state_dir() {
    static const fs::path dir = [] {
        std::string pattern = (fs::temp_directory_path() / "btd-fuzz-settings-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        spdlog::set_level(spdlog::level::off);  // the messages are still formatted
        return fs::path(pattern);
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)daemon::parse_runtime_overrides(text);
    // A corrupt file is set aside under a new name: start each input from an empty dir.
    fs::remove_all(state_dir());
    fs::create_directories(state_dir());
    auto file = state_dir() / daemon::kRuntimeSettingsFile;
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto overrides = daemon::load_runtime_overrides(state_dir());
    SessionSettings base;
    auto now = daemon::apply_overrides(base, overrides);
    (void)daemon::runtime_overrides(base, now);
    (void)daemon::overrides_after_set(overrides, base, now, base.listen_port);
    SessionSettings reloaded = base;
    reloaded.download_rate_limit = base.download_rate_limit + 1;
    (void)daemon::drop_overrides_changed_in_config(overrides, base, reloaded);
    return 0;
}
