#pragma once
// Files in the daemon's state dir that btctl reads to find the daemon by itself. The names and
// formats are a contract between btd and btctl.
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace btd::rpc {

inline constexpr std::string_view kRpcSecretFile = "rpc.secret";    // 64 hex chars + '\n', 0600
inline constexpr std::string_view kRpcAddressFile = "rpc.address";  // "host:port\n"
inline constexpr std::uint16_t kDefaultRpcPort = 9092;
inline constexpr std::string_view kDefaultRpcAddress = "127.0.0.1";

// "host:port" a local client can connect to: an unspecified bind address (0.0.0.0, ::) becomes
// loopback, IPv6 is bracketed ("[::1]:9092").
std::string client_address(const boost::asio::ip::tcp::endpoint& bound);

// Writes <state_dir>/rpc.address atomically (temp file, fsync, rename). Throws
// std::runtime_error on failure.
void write_address_file(const std::filesystem::path& state_dir,
                        const boost::asio::ip::tcp::endpoint& bound);

}  // namespace btd::rpc
