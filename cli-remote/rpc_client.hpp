#pragma once
// A blocking JSON-RPC client for btctl (one request per call, bounded in time).
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli-remote/cli_error.hpp"

namespace btd::btctl {

// The daemon answered with a JSON-RPC error.
class RpcCallError : public CliError {
  public:
    RpcCallError(int code, const std::string& message, nlohmann::json data);
    int code() const { return code_; }
    const nlohmann::json& data() const { return data_; }

  private:
    int code_;
    nlohmann::json data_;
};

class RpcClient {
  public:
    // Throws CliError(usage) if url is not an http:// URL.
    RpcClient(std::string url, std::optional<std::string> token, std::chrono::seconds timeout);

    // Returns the result; throws CliError (unreachable / auth / failure) or RpcCallError.
    nlohmann::json call(const std::string& method, const nlohmann::json& params);

    const std::string& url() const { return url_; }

  private:
    std::string url_;
    std::optional<std::string> token_;
    std::chrono::seconds timeout_;
    int next_id_ = 1;
};

}  // namespace btd::btctl
