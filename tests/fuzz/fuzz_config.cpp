// libFuzzer target: the daemon's config file parser (daemon/config), then the steps btd takes
// with what it read: resolving defaults, the session settings and the logged description.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/config.hpp"

using namespace btd::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    ConfigValues values;
    try {
        values = parse_config_text(text, "btd.conf");
    } catch (const ConfigError&) {
        return 0;
    }
    auto getenv = [](const char* name) -> std::optional<std::string> {
        if (std::string_view(name) == "HOME") return "/home/fuzz";
        return std::nullopt;
    };
    try {
        auto config = resolve_config(values, getenv);
        (void)config.session_settings();
        (void)config.describe();
    } catch (const ConfigError&) {
    }
    return 0;
}
