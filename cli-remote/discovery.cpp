#include "cli-remote/discovery.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "rpc/transport/state_files.hpp"

namespace btd::btctl {
namespace {

// First line of a small file, whitespace-trimmed; nullopt if missing or empty.
std::optional<std::string> read_first_line(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::string line;
    std::getline(in, line);
    auto first = line.find_first_not_of(" \t\r");
    auto last = line.find_last_not_of(" \t\r");
    if (first == std::string::npos) return std::nullopt;
    return line.substr(first, last - first + 1);
}

std::optional<std::string> non_empty(std::optional<std::string> v) {
    return (v && !v->empty()) ? v : std::nullopt;
}

}  // namespace

std::optional<std::string> process_env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
}

std::filesystem::path find_state_dir(const std::optional<std::string>& flag, const GetEnv& env) {
    if (flag && !flag->empty()) return *flag;
    if (auto dir = non_empty(env("BTD_STATE_DIR"))) return *dir;
    if (auto xdg = non_empty(env("XDG_STATE_HOME"))) return std::filesystem::path(*xdg) / "btd";
    if (auto home = non_empty(env("HOME")))
        return std::filesystem::path(*home) / ".local" / "state" / "btd";
    return std::filesystem::path(".local") / "state" / "btd";
}

Endpoint find_endpoint(const std::optional<std::string>& rpc_flag,
                       const std::optional<std::string>& token_flag,
                       const std::filesystem::path& state_dir, const GetEnv& env) {
    Endpoint e;
    if (rpc_flag && !rpc_flag->empty()) {
        e.url = *rpc_flag;
    } else if (auto address = read_first_line(state_dir / rpc::kRpcAddressFile)) {
        e.url = "http://" + *address + "/rpc";
    } else {
        e.url = "http://" + std::string(rpc::kDefaultRpcAddress) + ":" +
                std::to_string(rpc::kDefaultRpcPort) + "/rpc";
    }
    if (token_flag) {
        e.token = *token_flag;
    } else if (auto t = non_empty(env("BTD_RPC_TOKEN"))) {
        e.token = *t;
    } else {
        e.token = read_first_line(state_dir / rpc::kRpcSecretFile);
    }
    return e;
}

}  // namespace btd::btctl
