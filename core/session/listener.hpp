#pragma once
// Accepts incoming peer connections on the session's port (IPv4 and IPv6), reads the
// handshake under a timeout and hands the connection, as a TcpPeerStream, to whoever owns that
// info-hash.
// Hostile floods are bounded: at most kMaxPendingHandshakes connections wait for their handshake
// (a new one pushes out the oldest), and a failing accept() (out of descriptors) is retried
// after a growing pause instead of at once.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/peer/peer_stream.hpp"
#include "core/peer/wire.hpp"
#include "core/util/bind_target.hpp"
#include "core/util/engine_clock.hpp"

namespace btd {

class Listener {
  public:
    // The connection (its remote endpoint known) and the handshake already read from it.
    using Route = std::function<void(std::unique_ptr<PeerStream>, const wire::Handshake&)>;
    using Admit = std::function<bool()>;  // false: refuse (connection limit reached)

    // Connections accepted whose handshake has not arrived yet. Each holds a descriptor: a flood
    // of idle connections must not use up the process's open-file limit.
    static constexpr std::size_t kMaxPendingHandshakes = 64;

    // `clock` paces the accept-failure warnings; it must outlive the listener.
    Listener(boost::asio::io_context& io, Route route, Admit admit,
             const EngineClock& clock = system_clock());
    ~Listener();
    // Binds `address` (e.g. "0.0.0.0" = IPv4 and IPv6 any) on `port` (0 = any free port) and
    // returns the bound port. When already listening, the new sockets are bound before the old
    // ones close, so on failure the old ones keep listening; asking again for what is already
    // bound (the same port, or 0 after 0) changes nothing. Connections already accepted are
    // not affected. Throws std::runtime_error with a readable message on failure.
    std::uint16_t listen(const std::string& address, std::uint16_t port);
    // From the next listen() on: only on this address (whatever address listen() is given) or
    // interface (bind_interface).
    void set_bind(BindTarget bind) { bind_ = std::move(bind); }
    void close();

  private:
    struct Acceptor;
    using Acceptors = std::vector<std::shared_ptr<Acceptor>>;
    Acceptors bind(const std::string& address, std::uint16_t port, std::uint16_t& bound);
    void accept(const std::shared_ptr<Acceptor>& acceptor);
    void retry_accept_later(const std::shared_ptr<Acceptor>& acceptor,
                            const boost::system::error_code& ec);
    void read_handshake(boost::asio::ip::tcp::socket socket);
    void drop_oldest_pending();
    struct Pending;

    boost::asio::io_context& io_;
    const EngineClock& clock_;
    Route route_;
    Admit admit_;
    Acceptors acceptors_;
    std::string address_;          // what the current acceptors were asked for
    BindTarget bind_;              // set_bind: wins over the address asked for
    std::uint16_t requested_ = 0;  // the port asked for (0 = any)
    std::uint16_t bound_ = 0;      // the port they got
    std::map<std::uint64_t, std::shared_ptr<Pending>> pending_;  // by arrival, oldest first
    std::uint64_t next_pending_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd
