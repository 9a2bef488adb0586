#pragma once
// One TCP connection to a peer: connect, handshake, framing with a size limit, a write queue and
// per-connection state. Policy (what to request, whom to unchoke) lives in the owner (Torrent),
// which receives events through PeerConnection::Handler. Runs on the network thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/peer/wire.hpp"
#include "core/pieces/picker.hpp"
#include "core/util/bitfield.hpp"
#include "core/util/rate_meter.hpp"

namespace btd {

class PeerConnection : public std::enable_shared_from_this<PeerConnection> {
public:
    using Clock = std::chrono::steady_clock;

    class Handler {
    public:
        virtual ~Handler() = default;
        // Handshake checked (info-hash, not ourselves). Send the opening messages here.
        virtual void on_peer_connected(PeerConnection& peer) = 0;
        // `msg.payload` is only valid during the call.
        virtual void on_peer_message(PeerConnection& peer, const wire::Message& msg) = 0;
        // Called exactly once, after which the connection does nothing more.
        virtual void on_peer_closed(PeerConnection& peer, const std::string& reason) = 0;
    };

    struct Options {
        std::chrono::seconds connect_timeout{10};
        std::chrono::seconds handshake_timeout{15};
        std::size_t max_frame = 1 << 20;  // larger frames disconnect before being buffered
    };

    PeerConnection(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint remote,
                   Handler& handler, wire::Handshake ours, Options options);
    ~PeerConnection();

    void start_outgoing();
    void close(const std::string& reason);
    void detach();  // owner is going away: close without calling back

    // Appends complete frames to the send queue.
    void send(std::string_view frames);
    std::size_t send_queue_bytes() const { return pending_.size() + writing_.size(); }

    const boost::asio::ip::tcp::endpoint& remote() const { return remote_; }
    const wire::Handshake& remote_handshake() const { return theirs_; }
    bool connected() const { return handshake_done_; }
    bool closed() const { return closed_; }
    bool fast_extension() const;  // both sides support BEP 6

    // State the owner reads and updates.
    bool am_choking = true;
    bool am_interested = false;
    bool peer_choking = true;
    bool peer_interested = false;
    bool has_all_pieces = false;  // peer sent have_all or a full bitfield
    bool snubbed = false;
    Bitfield peer_has;
    struct Request {
        BlockRef block;
        Clock::time_point sent;
    };
    std::deque<Request> requests;  // ours, outstanding, in send order
    int queue_target = 16;         // pipeline depth the owner aims for
    RateMeter download;            // payload bytes from the peer
    RateMeter upload;              // payload bytes to the peer
    Clock::time_point last_receive;
    Clock::time_point last_send;
    Clock::time_point last_block;  // last piece payload received
    Clock::time_point connected_at;

private:
    void on_connect(const boost::system::error_code& ec);
    void read_more();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    bool process_input();  // false once closed
    void flush();
    void finish(const std::string& reason, bool notify);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer handshake_timer_;
    boost::asio::ip::tcp::endpoint remote_;
    Handler* handler_;
    wire::Handshake ours_;
    wire::Handshake theirs_;
    Options options_;
    std::vector<char> rbuf_;
    std::size_t rbegin_ = 0, rend_ = 0;
    std::string pending_, writing_;
    bool handshake_done_ = false;
    bool closed_ = false;
    bool reading_ = false;
};

}  // namespace btd
