#pragma once
// Accepts incoming peer connections on the session's port (IPv4 and IPv6), reads the
// handshake under a timeout and hands the socket to whoever owns that info-hash.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/peer/wire.hpp"

namespace btd {

class Listener {
  public:
    using Route = std::function<void(boost::asio::ip::tcp::socket, const wire::Handshake&)>;
    using Admit = std::function<bool()>;  // false: refuse (connection limit reached)

    Listener(boost::asio::io_context& io, Route route, Admit admit);
    ~Listener();
    // Binds `address` (e.g. "0.0.0.0" = IPv4 and IPv6 any) on `port` (0 = any free port).
    // Returns the bound port; throws std::runtime_error with a readable message on failure.
    std::uint16_t listen(const std::string& address, std::uint16_t port);
    void close();

  private:
    struct Acceptor;
    void accept(const std::shared_ptr<Acceptor>& acceptor);
    void read_handshake(boost::asio::ip::tcp::socket socket);

    boost::asio::io_context& io_;
    Route route_;
    Admit admit_;
    std::vector<std::shared_ptr<Acceptor>> acceptors_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd
