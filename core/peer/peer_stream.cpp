#include "core/peer/peer_stream.hpp"

#include <boost/asio/write.hpp>

namespace btd {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

TcpPeerStream::TcpPeerStream(asio::io_context& io, tcp::endpoint remote)
    : socket_(io), remote_(remote) {}

TcpPeerStream::TcpPeerStream(tcp::socket accepted) : socket_(std::move(accepted)) {
    error_code ignored;
    remote_ = socket_.remote_endpoint(ignored);
    socket_.set_option(tcp::no_delay(true), ignored);
}

error_code TcpPeerStream::bind(const BindTarget& target) {
    error_code ec;
    socket_.open(remote_.protocol(), ec);
    return ec ? ec : apply_bind_target(socket_, target);
}

void TcpPeerStream::async_connect(ConnectDone done) {
    // `this` outlives the operation: `done` holds the connection that owns this stream.
    socket_.async_connect(remote_, [this, done = std::move(done)](const error_code& ec) {
        error_code ignored;
        if (!ec) socket_.set_option(tcp::no_delay(true), ignored);
        done(ec);
    });
}

void TcpPeerStream::async_read_some(asio::mutable_buffer buffer, IoDone done) {
    socket_.async_read_some(buffer, std::move(done));
}

void TcpPeerStream::async_write(asio::const_buffer buffer, IoDone done) {
    asio::async_write(socket_, buffer, std::move(done));
}

void TcpPeerStream::close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

PeerStreamFactory tcp_stream_factory(asio::io_context& io) {
    return
        [&io](const tcp::endpoint& remote) { return std::make_unique<TcpPeerStream>(io, remote); };
}

}  // namespace btd
