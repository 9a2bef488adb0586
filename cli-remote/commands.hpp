#pragma once
// btctl's commands, on top of any way to make an RPC call (a real client, or a fake in tests).
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "cli-remote/args.hpp"
#include "cli-remote/discovery.hpp"

namespace btd::btctl {

using RpcCall =
    std::function<nlohmann::json(const std::string& method, const nlohmann::json& params)>;

// Runs one parsed command; prints results to `out`. Throws CliError on failure.
void run_command(const CliOptions& options, const RpcCall& call, std::ostream& out);

// The whole program: parse, find the daemon, run; errors go to `err` as "btctl: ...".
// Returns the exit code (see cli_error.hpp).
int btctl_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const GetEnv& env);

}  // namespace btd::btctl
