#include "core/util/bind_target.hpp"

#include <net/if.h>

#include <stdexcept>

namespace btd {

BindTarget parse_bind_target(const std::string& text) {
    BindTarget target;
    if (text.empty()) return target;
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(text, ec);
    if (!ec) {
        target.address = address;
        return target;
    }
    if (text.size() >= IF_NAMESIZE || ::if_nametoindex(text.c_str()) == 0)
        throw std::invalid_argument("'" + text +
                                    "' is neither an IP address nor a network interface here "
                                    "(see `ip address`)");
    target.device = text;
    return target;
}

}  // namespace btd
