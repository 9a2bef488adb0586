#pragma once
// Where peer traffic goes out (bind_interface, for VPN users): an IP address that sockets bind
// to, or a network interface (SO_BINDTODEVICE) that they are tied to. Any thread.
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string>

namespace btd {

struct BindTarget {
    std::optional<boost::asio::ip::address> address;  // bind to this address (port 0)
    std::string device;                               // or tie to this interface
    bool empty() const { return !address && device.empty(); }
    std::string text() const { return address ? address->to_string() : device; }
};

// "" = none; an IPv4 or IPv6 literal; else the name of an interface that exists now. Throws
// std::invalid_argument with a message for the user.
BindTarget parse_bind_target(const std::string& text);

// Ties an open socket (or acceptor) to `target`; an address of the other IP family than the
// socket's is refused, so nothing leaves by another route. Returns the error, if any.
template <class Socket>
boost::system::error_code apply_bind_target(Socket& socket, const BindTarget& target) {
    boost::system::error_code ec;
    if (!target.device.empty() &&
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, target.device.c_str(),
                     static_cast<socklen_t>(target.device.size())) != 0)
        return {errno, boost::system::system_category()};
    if (target.address) {
        using Endpoint = typename Socket::protocol_type::endpoint;
        socket.bind(Endpoint(*target.address, 0), ec);
    }
    return ec;
}

}  // namespace btd
