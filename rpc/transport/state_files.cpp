#include "rpc/transport/state_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace btd::rpc {

std::string client_address(const boost::asio::ip::tcp::endpoint& bound) {
    auto address = bound.address();
    if (address.is_unspecified())
        address = address.is_v6()
                      ? boost::asio::ip::address(boost::asio::ip::address_v6::loopback())
                      : boost::asio::ip::address(boost::asio::ip::address_v4::loopback());
    // Not "[" + address.to_string(): GCC 12 at -O3 warns falsely (-Wrestrict) on it.
    std::string host = address.is_v6() ? std::string(1, '[') : std::string();
    host += address.to_string();
    if (address.is_v6()) host += ']';
    return host + ":" + std::to_string(bound.port());
}

void write_address_file(const std::filesystem::path& state_dir,
                        const boost::asio::ip::tcp::endpoint& bound) {
    auto target = state_dir / kRpcAddressFile;
    auto temp = target;
    temp += ".tmp";
    auto fail = [&](const char* what) {
        return std::runtime_error(std::string(what) + " " + temp.string() + ": " +
                                  std::strerror(errno));
    };
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw fail("cannot create");
    auto line = client_address(bound) + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw fail("cannot write");
    if (::rename(temp.c_str(), target.c_str()) != 0) throw fail("cannot rename");
}

}  // namespace btd::rpc
