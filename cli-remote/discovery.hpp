#pragma once
// Finding the daemon: its state dir, RPC URL and secret, without the user typing them.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace btd::btctl {

using GetEnv = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::string> process_env(const char* name);

// --state-dir, else $BTD_STATE_DIR, else $XDG_STATE_HOME/btd, else $HOME/.local/state/btd.
std::filesystem::path find_state_dir(const std::optional<std::string>& flag, const GetEnv& env);

struct Endpoint {
    std::string url;                   // http://host:port/rpc
    std::optional<std::string> token;  // nullopt: send no Authorization header
};

// URL: --rpc, else from <state>/rpc.address, else the default http://127.0.0.1:9092/rpc.
// Token: --token, else $BTD_RPC_TOKEN, else <state>/rpc.secret if readable.
Endpoint find_endpoint(const std::optional<std::string>& rpc_flag,
                       const std::optional<std::string>& token_flag,
                       const std::filesystem::path& state_dir, const GetEnv& env);

}  // namespace btd::btctl
