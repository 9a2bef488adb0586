#pragma once
// The byte stream under a PeerConnection: TCP in the daemon (TcpPeerStream below), an in-memory
// pair in unit tests (tests/support/memory_peer_stream.hpp), so a whole Torrent can be driven
// without sockets. Network thread only. Like Asio's own operations, every completion runs later
// on the stream's executor, never inline, and exactly once, with an error once close() has run.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>

#include "core/util/bind_target.hpp"

namespace btd {

class PeerStream {
  public:
    using ConnectDone = std::function<void(const boost::system::error_code&)>;
    using IoDone = std::function<void(const boost::system::error_code&, std::size_t)>;

    virtual ~PeerStream() = default;
    virtual boost::asio::any_io_executor get_executor() = 0;
    // Where an outgoing stream connects to, or where an accepted one came from.
    virtual const boost::asio::ip::tcp::endpoint& remote() const = 0;
    // Outgoing, before async_connect: sends only from `target`. Returns the error, if any.
    virtual boost::system::error_code bind(const BindTarget& target) = 0;
    virtual void async_connect(ConnectDone done) = 0;  // outgoing: to remote()
    // Up to buffer.size() bytes; asio::error::eof once the peer has closed and all is read.
    virtual void async_read_some(boost::asio::mutable_buffer buffer, IoDone done) = 0;
    // All of `buffer`, or an error. The buffer must stay valid until `done` runs.
    virtual void async_write(boost::asio::const_buffer buffer, IoDone done) = 0;
    virtual void close() = 0;  // both directions; pending operations complete with an error
};

// PeerStream over a TCP socket, with Nagle off (requests and small messages go out at once).
class TcpPeerStream final : public PeerStream {
  public:
    TcpPeerStream(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint remote);  // outgoing
    explicit TcpPeerStream(boost::asio::ip::tcp::socket accepted);

    boost::asio::any_io_executor get_executor() override { return socket_.get_executor(); }
    const boost::asio::ip::tcp::endpoint& remote() const override { return remote_; }
    boost::system::error_code bind(const BindTarget& target) override;
    void async_connect(ConnectDone done) override;
    void async_read_some(boost::asio::mutable_buffer buffer, IoDone done) override;
    void async_write(boost::asio::const_buffer buffer, IoDone done) override;
    void close() override;

  private:
    boost::asio::ip::tcp::socket socket_;
    boost::asio::ip::tcp::endpoint remote_;
};

// Makes the stream of each outgoing peer connection (SessionContext::open_stream): TCP in the
// daemon; a unit test hands out in-memory streams instead.
using PeerStreamFactory =
    std::function<std::unique_ptr<PeerStream>(const boost::asio::ip::tcp::endpoint& remote)>;
PeerStreamFactory tcp_stream_factory(boost::asio::io_context& io);

}  // namespace btd
