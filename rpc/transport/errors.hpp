#pragma once
// JSON-RPC 2.0 error codes and the exception handlers throw to report one.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace btd::rpc {

// Named like the enum constants they stand for (std::errc style); ints because JSON-RPC codes are.
// NOLINTBEGIN(readability-identifier-naming)
namespace errc {
// Standard JSON-RPC 2.0 codes.
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
// Application codes (-32000..-32099); documented in rpc/README.md.
inline constexpr int unknown_torrent = -32001;
inline constexpr int duplicate_torrent = -32002;
inline constexpr int bad_torrent = -32003;
inline constexpr int bad_download_dir = -32004;
inline constexpr int fetch_failed = -32005;
inline constexpr int not_supported = -32006;
inline constexpr int shutting_down = -32007;
inline constexpr int being_removed = -32008;
// The caller's token (read-only, or not the admin secret) may not call this method.
inline constexpr int not_permitted = -32010;
}  // namespace errc
// NOLINTEND(readability-identifier-naming)

// Thrown by method handlers; becomes the `error` member of the response.
class RpcError : public std::runtime_error {
  public:
    RpcError(int code, const std::string& message, nlohmann::json data = nullptr)
        : std::runtime_error(message), code_(code), data_(std::move(data)) {}
    int code() const { return code_; }
    const nlohmann::json& data() const { return data_; }

  private:
    int code_;
    nlohmann::json data_;
};

inline RpcError invalid_params(const std::string& message) {
    return RpcError(errc::invalid_params, message);
}

}  // namespace btd::rpc
