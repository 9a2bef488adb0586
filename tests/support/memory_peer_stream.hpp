#pragma once
// Two connected in-memory PeerStreams (core/peer/peer_stream.hpp) for unit tests: what one end
// writes, the other reads, in order, with no socket. Completions are posted to the io_context,
// never run inline, as Asio's are; closing one end makes the other read EOF after the bytes
// already written, and its writes fail with broken_pipe. Network thread only.
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/peer/peer_stream.hpp"

namespace btd::test {

class MemoryPeerStream final : public PeerStream {
  public:
    // Returns {the end the code under test uses, the far end the test drives}. `remote` is the
    // address the near end claims to talk to (the far end reports the same).
    static std::pair<std::unique_ptr<MemoryPeerStream>, std::unique_ptr<MemoryPeerStream>> pair(
        boost::asio::io_context& io, boost::asio::ip::tcp::endpoint remote) {
        auto link = std::make_shared<Link>();
        return {std::unique_ptr<MemoryPeerStream>(new MemoryPeerStream(io, link, 0, remote)),
                std::unique_ptr<MemoryPeerStream>(new MemoryPeerStream(io, link, 1, remote))};
    }
    ~MemoryPeerStream() override { close(); }

    boost::asio::any_io_executor get_executor() override { return io_.get_executor(); }
    const boost::asio::ip::tcp::endpoint& remote() const override { return remote_; }
    // Records the target (either end reports it through bound_to()); binds nothing.
    boost::system::error_code bind(const BindTarget& target) override {
        link_->bound_to = target.text();
        return {};
    }
    void async_connect(ConnectDone done) override {
        post([done = std::move(done), ec = refuse_ ? boost::asio::error::connection_refused
                                                   : boost::system::error_code{}] { done(ec); });
    }
    // The next async_connect fails as a closed port would.
    void refuse_connection() { refuse_ = true; }

    void async_read_some(boost::asio::mutable_buffer buffer, IoDone done) override {
        if (closed_) return post_io(std::move(done), boost::asio::error::operation_aborted, 0);
        inbox().reader = PendingRead{buffer, std::move(done)};
        serve_reader(side_);
    }

    void async_write(boost::asio::const_buffer buffer, IoDone done) override {
        if (closed_) return post_io(std::move(done), boost::asio::error::operation_aborted, 0);
        Channel& out = outbox();
        if (out.reader_closed) return post_io(std::move(done), boost::asio::error::broken_pipe, 0);
        out.bytes.append(static_cast<const char*>(buffer.data()), buffer.size());
        written_ += buffer.size();
        serve_reader(1 - side_);
        post_io(std::move(done), {}, buffer.size());
    }

    void close() override {
        if (closed_) return;
        closed_ = true;
        inbox().reader_closed = true;
        if (auto pending = std::exchange(inbox().reader, std::nullopt))
            post_io(std::move(pending->done), boost::asio::error::operation_aborted, 0);
        outbox().writer_closed = true;
        serve_reader(1 - side_);  // the far end reads what is left, then EOF
    }

    bool closed() const { return closed_; }
    bool peer_closed() const { return link_->channel[side_].writer_closed; }
    std::size_t bytes_written() const { return written_; }
    // What the code under test bound its end to (BindTarget::text()), if it called bind().
    const std::optional<std::string>& bound_to() const { return link_->bound_to; }

  private:
    struct PendingRead {
        boost::asio::mutable_buffer buffer;
        IoDone done;
    };
    struct Channel {  // one direction: written by one end, read by the other
        std::string bytes;
        bool writer_closed = false;
        bool reader_closed = false;
        std::optional<PendingRead> reader;
    };
    struct Link {
        Channel channel[2];  // channel[s] is read by side s
        std::optional<std::string> bound_to;
    };

    MemoryPeerStream(boost::asio::io_context& io, std::shared_ptr<Link> link, int side,
                     boost::asio::ip::tcp::endpoint remote)
        : io_(io), link_(std::move(link)), side_(side), remote_(remote) {}

    Channel& inbox() { return link_->channel[side_]; }
    Channel& outbox() { return link_->channel[1 - side_]; }

    // Completes the pending read of side `s` if there is data for it, or EOF.
    void serve_reader(int s) {
        Channel& ch = link_->channel[s];
        if (!ch.reader || (ch.bytes.empty() && !ch.writer_closed)) return;
        auto pending = std::move(*ch.reader);
        ch.reader.reset();
        if (ch.bytes.empty()) return post_io(std::move(pending.done), boost::asio::error::eof, 0);
        std::size_t n = std::min(pending.buffer.size(), ch.bytes.size());
        std::memcpy(pending.buffer.data(), ch.bytes.data(), n);
        ch.bytes.erase(0, n);
        post_io(std::move(pending.done), {}, n);
    }

    template <class Fn>
    void post(Fn fn) {
        boost::asio::post(io_, std::move(fn));
    }
    void post_io(IoDone done, boost::system::error_code ec, std::size_t n) {
        post([done = std::move(done), ec, n] { done(ec, n); });
    }

    boost::asio::io_context& io_;
    std::shared_ptr<Link> link_;
    int side_;
    boost::asio::ip::tcp::endpoint remote_;
    bool closed_ = false;
    bool refuse_ = false;
    std::size_t written_ = 0;
};

}  // namespace btd::test
