// btctl: remote control for a running btd over its JSON-RPC endpoint.
#include <iostream>
#include <string>
#include <vector>

#include "cli-remote/commands.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return btd::btctl::btctl_main(args, std::cout, std::cerr, btd::btctl::process_env);
}
