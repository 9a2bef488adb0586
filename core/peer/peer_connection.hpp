#pragma once
// One connection to a peer: connect, handshake, framing with a size limit and a write queue, over
// a PeerStream (peer_stream.hpp: TCP, or in memory in unit tests). It carries the owner's PeerState
// (peer_state.hpp) but never reads it. Policy (what to request, whom to unchoke) lives in the owner
// (Torrent), which receives events through PeerConnection::Handler. Runs on the network thread
// only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/peer/peer_state.hpp"
#include "core/peer/peer_stream.hpp"
#include "core/peer/wire.hpp"
#include "core/util/bind_target.hpp"
#include "core/util/engine_clock.hpp"
#include "core/util/rate_limiter.hpp"

namespace btd {

class PeerConnection : public std::enable_shared_from_this<PeerConnection> {
  public:
    using Clock = std::chrono::steady_clock;

    // Why a connection ended, for the owner's redial and ban policy (the text is for logs).
    enum class CloseReason {
        ordinary,            // the peer left, a timeout, a network error, the owner's choice
        protocol_violation,  // malformed, oversized or forbidden messages
        connected_to_self,   // the remote handshake carried our own peer id
        wrong_torrent,       // the remote handshake named another info-hash
    };

    class Handler {
      public:
        virtual ~Handler() = default;
        // Handshake checked (info-hash, not ourselves). Send the opening messages here.
        virtual void on_peer_connected(PeerConnection& peer) = 0;
        // `msg.payload` is only valid during the call.
        virtual void on_peer_message(PeerConnection& peer, const wire::Message& msg) = 0;
        // Called exactly once, after which the connection does nothing more.
        virtual void on_peer_closed(PeerConnection& peer, const std::string& reason) = 0;
        // The send queue drained below kLowWatermark: a good time to queue more uploads.
        virtual void on_peer_writable(PeerConnection& peer) {}
    };
    static constexpr std::size_t kLowWatermark = 256 * 1024;

    struct Options {
        std::chrono::seconds connect_timeout{10};
        std::chrono::seconds handshake_timeout{15};
        std::size_t max_frame = 1 << 20;  // larger frames disconnect before being buffered
        BindTarget bind;                  // outgoing: connect only from this address or interface
        // What last_receive(), last_send() and connected_at() read; outlives the connection.
        const EngineClock* clock = &system_clock();
    };

    // Outgoing: start_outgoing() connects `stream` to stream->remote().
    PeerConnection(std::unique_ptr<PeerStream> stream, Handler& handler, wire::Handshake ours,
                   Options options);
    // Accepted: the listener already read the remote handshake `theirs`.
    PeerConnection(std::unique_ptr<PeerStream> stream, Handler& handler, wire::Handshake ours,
                   wire::Handshake theirs, Options options);
    // The same over TCP.
    PeerConnection(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint remote,
                   Handler& handler, wire::Handshake ours, Options options);
    PeerConnection(boost::asio::ip::tcp::socket socket, Handler& handler, wire::Handshake ours,
                   wire::Handshake theirs, Options options);
    ~PeerConnection();

    void start_outgoing();
    void start_incoming();  // replies with our handshake, then behaves like an outgoing one
    // Every byte read or written (protocol overhead included) is taken from these limiters.
    void set_bandwidth(LimiterChain download, LimiterChain upload);
    void close(const std::string& reason, CloseReason kind = CloseReason::ordinary);
    // Closes for a protocol violation: the owner bans the peer for a while.
    void close_violation(const std::string& reason) {
        close(reason, CloseReason::protocol_violation);
    }
    CloseReason close_reason() const { return close_reason_; }  // valid once closed()
    void detach();  // owner is going away: close without calling back

    // Appends complete frames to the send queue.
    void send(std::string_view frames);
    std::size_t send_queue_bytes() const { return pending_.size() + writing_.size(); }
    void set_max_frame(std::size_t bytes);

    const boost::asio::ip::tcp::endpoint& remote() const { return stream_->remote(); }
    const wire::Handshake& remote_handshake() const { return theirs_; }
    bool connected() const { return handshake_done_; }
    bool incoming() const { return incoming_; }
    bool closed() const { return closed_; }
    bool fast_extension() const;  // both sides support BEP 6

    // When the last byte came in or went out, and when the handshake completed.
    Clock::time_point last_receive() const { return last_receive_; }
    Clock::time_point last_send() const { return last_send_; }
    Clock::time_point connected_at() const { return connected_at_; }

    // The owner's protocol state for this peer; the connection itself never reads it.
    PeerState& state() { return state_; }
    const PeerState& state() const { return state_; }

  private:
    void on_connect(const boost::system::error_code& ec);
    void read_more();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    bool process_input();  // false once closed
    void flush();
    void finish(const std::string& reason, CloseReason kind, bool notify);

    std::unique_ptr<PeerStream> stream_;
    boost::asio::steady_timer handshake_timer_;
    Handler* handler_;
    wire::Handshake ours_;
    wire::Handshake theirs_;
    Options options_;
    std::vector<char> rbuf_;
    std::size_t rbegin_ = 0, rend_ = 0;
    std::string pending_, writing_;
    bool write_active_ = false;
    bool socket_connected_ = false;
    bool incoming_ = false;
    LimiterChain download_limiters_, upload_limiters_;
    bool handshake_done_ = false;
    bool closed_ = false;
    bool reading_ = false;
    CloseReason close_reason_ = CloseReason::ordinary;
    Clock::time_point last_receive_, last_send_, connected_at_;
    PeerState state_;
};

}  // namespace btd
