#include "core/peer/peer_connection.hpp"

#include <boost/asio/post.hpp>
#include <cstring>

namespace btd {

namespace asio = boost::asio;
using boost::system::error_code;

PeerConnection::PeerConnection(std::unique_ptr<PeerStream> stream, Handler& handler,
                               wire::Handshake ours, Options options)
    : stream_(std::move(stream)),
      handshake_timer_(stream_->get_executor()),
      handler_(&handler),
      ours_(ours),
      options_(options) {
    last_receive_ = last_send_ = connected_at_ = options_.clock->now();
}

PeerConnection::PeerConnection(std::unique_ptr<PeerStream> stream, Handler& handler,
                               wire::Handshake ours, wire::Handshake theirs, Options options)
    : PeerConnection(std::move(stream), handler, ours, options) {
    theirs_ = theirs;
    incoming_ = true;
}

PeerConnection::PeerConnection(asio::io_context& io, asio::ip::tcp::endpoint remote,
                               Handler& handler, wire::Handshake ours, Options options)
    : PeerConnection(std::make_unique<TcpPeerStream>(io, remote), handler, ours, options) {}

PeerConnection::PeerConnection(asio::ip::tcp::socket socket, Handler& handler, wire::Handshake ours,
                               wire::Handshake theirs, Options options)
    : PeerConnection(std::make_unique<TcpPeerStream>(std::move(socket)), handler, ours, theirs,
                     options) {}

PeerConnection::~PeerConnection() = default;

void PeerConnection::set_max_frame(std::size_t bytes) {
    options_.max_frame = bytes;  // read_more() resizes the buffer: a read may be in flight now
}

void PeerConnection::set_bandwidth(LimiterChain download, LimiterChain upload) {
    download_limiters_ = std::move(download);
    upload_limiters_ = std::move(upload);
}

void PeerConnection::start_incoming() {
    handshake_done_ = true;
    socket_connected_ = true;
    pending_.insert(0, wire::encode_handshake(ours_));
    flush();
    handler_->on_peer_connected(*this);
    if (!closed_) read_more();
}

bool PeerConnection::fast_extension() const {
    return ours_.supports_fast() && theirs_.supports_fast();
}

void PeerConnection::start_outgoing() {
    handshake_timer_.expires_after(options_.connect_timeout + options_.handshake_timeout);
    handshake_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec && !self->handshake_done_) self->close("handshake timed out");
    });
    if (!options_.bind.empty()) {
        // Bound before connecting, so not one packet leaves from another address or interface.
        if (auto ec = stream_->bind(options_.bind))
            return asio::post(stream_->get_executor(), [self = shared_from_this(), ec] {
                self->close("cannot connect from " + self->options_.bind.text() + ": " +
                            ec.message());
            });
    }
    stream_->async_connect(
        [self = shared_from_this()](const error_code& ec) { self->on_connect(ec); });
}

void PeerConnection::on_connect(const error_code& ec) {
    if (closed_) return;
    if (ec) return close("connect failed: " + ec.message());
    socket_connected_ = true;
    // The handshake must precede anything the owner queued before the connection was up.
    pending_.insert(0, wire::encode_handshake(ours_));
    flush();
    read_more();
}

void PeerConnection::read_more() {
    if (closed_ || reading_) return;
    if (rbegin_ > 0 && (rend_ == rbegin_ || rbuf_.size() - rend_ < 64 * 1024)) {
        std::memmove(rbuf_.data(), rbuf_.data() + rbegin_, rend_ - rbegin_);
        rend_ -= rbegin_;
        rbegin_ = 0;
    }
    // Resize only here, with no read in flight; shrink only when empty so no byte is lost.
    const std::size_t wanted = options_.max_frame + 4 + 64 * 1024;
    if (rbuf_.size() < wanted || (rend_ == 0 && rbuf_.size() > wanted)) {
        rbuf_.resize(wanted);
        rbuf_.shrink_to_fit();
    }
    reading_ = true;
    std::size_t space = rbuf_.size() - rend_;
    auto do_read = [self = shared_from_this()](std::size_t n) {
        if (self->closed_) return;
        self->stream_->async_read_some(
            asio::buffer(self->rbuf_.data() + self->rend_, n),
            [self](const error_code& ec, std::size_t got) { self->on_read(ec, got); });
    };
    if (download_limiters_.empty()) return do_read(space);
    acquire_bandwidth(download_limiters_, std::min<std::size_t>(space, 16 * 1024 + 13), do_read);
}

void PeerConnection::on_read(const error_code& ec, std::size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) return close(ec == asio::error::eof ? "peer closed the connection" : ec.message());
    rend_ += n;
    last_receive_ = options_.clock->now();
    if (process_input()) read_more();
}

bool PeerConnection::process_input() {
    if (!handshake_done_) {
        if (rend_ - rbegin_ < wire::kHandshakeSize) return true;
        auto hs = wire::decode_handshake({rbuf_.data() + rbegin_, wire::kHandshakeSize});
        rbegin_ += wire::kHandshakeSize;
        if (!hs) return close_violation("not a BitTorrent handshake"), false;
        if (hs->info_hash != ours_.info_hash)
            return close("handshake for another torrent", CloseReason::wrong_torrent), false;
        if (hs->peer_id == ours_.peer_id)
            return close("connected to ourselves", CloseReason::connected_to_self), false;
        theirs_ = *hs;
        handshake_done_ = true;
        handshake_timer_.cancel();
        connected_at_ = options_.clock->now();
        handler_->on_peer_connected(*this);
        if (closed_) return false;
    }
    while (rend_ - rbegin_ >= 4) {
        std::uint32_t len = wire::read_u32(rbuf_.data() + rbegin_);
        // Checked before buffering: a hostile length prefix must not grow memory.
        if (len > options_.max_frame)
            return close_violation("message of " + std::to_string(len) +
                                   " bytes exceeds the limit"),
                   false;
        if (rend_ - rbegin_ < 4 + std::size_t(len)) break;
        std::string_view body(rbuf_.data() + rbegin_ + 4, len);
        rbegin_ += 4 + len;
        wire::Message msg;
        try {
            msg = wire::decode_message(body);
        } catch (const wire::ProtocolError& e) {
            return close_violation(e.what()), false;
        }
        handler_->on_peer_message(*this, msg);
        if (closed_) return false;
    }
    return true;
}

void PeerConnection::send(std::string_view frames) {
    if (closed_) return;
    pending_.append(frames);
    if (socket_connected_) flush();
}

void PeerConnection::flush() {
    if (closed_ || pending_.empty() || write_active_) return;
    write_active_ = true;
    auto do_write = [self = shared_from_this()](std::size_t n) {
        if (self->closed_) return;
        if (n >= self->pending_.size()) {
            self->writing_.swap(self->pending_);
        } else {
            self->writing_.assign(self->pending_, 0, n);
            self->pending_.erase(0, n);
        }
        self->last_send_ = self->options_.clock->now();
        self->stream_->async_write(
            asio::buffer(self->writing_), [self](const error_code& ec, std::size_t) {
                if (self->closed_) return;
                if (ec) return self->close("send failed: " + ec.message());
                self->writing_.clear();
                self->write_active_ = false;
                self->flush();
                if (!self->closed_ && self->handler_ && self->send_queue_bytes() < kLowWatermark)
                    self->handler_->on_peer_writable(*self);
            });
    };
    if (upload_limiters_.empty()) return do_write(pending_.size());
    acquire_bandwidth(upload_limiters_, pending_.size(), do_write);
}

void PeerConnection::close(const std::string& reason, CloseReason kind) {
    finish(reason, kind, true);
}

void PeerConnection::detach() {
    finish("detached", CloseReason::ordinary, false);
}

void PeerConnection::finish(const std::string& reason, CloseReason kind, bool notify) {
    if (closed_) return;
    closed_ = true;
    close_reason_ = kind;
    handshake_timer_.cancel();
    stream_->close();
    // A limiter's waiters hold this connection; holding the limiters back would be a cycle
    // that outlives the limiters' owners. A closed connection never asks for bandwidth again.
    download_limiters_.clear();
    upload_limiters_.clear();
    auto* handler = handler_;
    handler_ = nullptr;
    if (notify && handler) handler->on_peer_closed(*this, reason);
}

}  // namespace btd
