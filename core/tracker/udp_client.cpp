#include "core/tracker/udp_client.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <vector>

#include "core/tracker/udp_protocol.hpp"

namespace btd::tracker {
namespace {

namespace asio = boost::asio;
using Udp = asio::ip::udp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

class UdpRequest : public PendingRequest, public std::enable_shared_from_this<UdpRequest> {
  public:
    UdpRequest(TrackerContext& ctx, const Url& url, UdpExchange exchange)
        : state_(ctx.state()),
          url_(url),
          cache_key_(url.host + ":" + std::to_string(url.port)),
          exchange_(std::move(exchange)),
          resolver_(state_.io),
          socket_(state_.io),
          retransmit_timer_(state_.io),
          deadline_(state_.io),
          receive_buffer_(64 * 1024) {}

    void start(std::optional<std::chrono::milliseconds> timeout) {
        if (timeout) {
            deadline_.expires_after(*timeout);
            deadline_.async_wait([self = shared_from_this()](error_code ec) {
                if (!ec) self->finish("UDP tracker did not answer in time");
            });
        }
        resolver_.async_resolve(
            url_.host, std::to_string(url_.port),
            [self = shared_from_this()](error_code ec, const Udp::resolver::results_type& results) {
                self->on_resolve(ec, results);
            });
    }

    void cancel() override { finish("cancelled"); }

  private:
    enum class Phase { connect, request };

    void on_resolve(error_code ec, const Udp::resolver::results_type& results) {
        if (done_) return;
        if (ec || results.empty())
            return finish("cannot resolve " + url_.host + ": " +
                          (ec ? ec.message() : "no address"));
        Udp::endpoint endpoint = results.begin()->endpoint();
        ipv6_ = endpoint.address().is_v6();
        socket_.open(endpoint.protocol(), ec);
        if (!ec) ec = apply_bind_target(socket_, state_.settings.bind);
        // A connected UDP socket only accepts the tracker's datagrams and reports ICMP errors.
        if (!ec) socket_.connect(endpoint, ec);
        if (ec) return finish("cannot open UDP socket: " + ec.message());
        receive();
        begin_phase(0);
    }

    // Sends connect, or the request itself when a fresh connection id is cached.
    void begin_phase(int attempt) {
        auto cached = state_.udp_connections.find(cache_key_);
        bool fresh =
            cached != state_.udp_connections.end() &&
            Clock::now() - cached->second.obtained < state_.settings.udp_connection_id_lifetime;
        if (fresh) {
            connection_id_ = cached->second.id;
            phase_ = Phase::request;
        } else {
            phase_ = Phase::connect;
        }
        transaction_id_ = state_.random_u32();
        packet_ = phase_ == Phase::connect ? udp::encode_connect(transaction_id_)
                                           : exchange_.build(connection_id_, transaction_id_);
        attempt_ = attempt;
        transmit();
    }

    void transmit() {
        socket_.async_send(asio::buffer(packet_),
                           [self = shared_from_this()](error_code ec, std::size_t) {
                               if (!self->done_ && ec)
                                   self->finish("cannot send to UDP tracker: " + ec.message());
                           });
        auto wait = state_.settings.udp_base_timeout * (1 << attempt_);
        unsigned generation = ++timer_generation_;
        retransmit_timer_.expires_after(wait);
        retransmit_timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
            if (ec || self->done_ || generation != self->timer_generation_) return;
            self->on_retransmit_timeout();
        });
    }

    void on_retransmit_timeout() {
        if (attempt_ >= state_.settings.udp_max_retransmits)
            return finish("UDP tracker did not answer after " + std::to_string(attempt_ + 1) +
                          " attempts");
        int next_attempt = attempt_ + 1;
        if (phase_ == Phase::request) {
            // The connection id may have expired while we waited: start again with connect.
            auto cached = state_.udp_connections.find(cache_key_);
            if (cached == state_.udp_connections.end() ||
                Clock::now() - cached->second.obtained >=
                    state_.settings.udp_connection_id_lifetime) {
                return begin_phase(next_attempt);
            }
        }
        attempt_ = next_attempt;
        transmit();
    }

    void receive() {
        socket_.async_receive(
            asio::buffer(receive_buffer_),
            [self = shared_from_this()](error_code ec, std::size_t n) { self->on_receive(ec, n); });
    }

    void on_receive(error_code ec, std::size_t size) {
        if (done_) return;
        if (ec == asio::error::connection_refused)
            return finish("UDP tracker port is closed (connection refused)");
        if (ec) return finish("UDP receive failed: " + ec.message());
        std::string_view packet(receive_buffer_.data(), size);
        auto header = udp::peek_header(packet);
        if (!header || header->transaction_id != transaction_id_) return receive();  // stray

        if (phase_ == Phase::request) {
            // An error reply often means our connection id is no longer accepted.
            if (header->action == udp::Action::error) state_.udp_connections.erase(cache_key_);
            std::string reply(packet);
            return deliver("", std::move(reply));
        }
        try {
            connection_id_ = udp::decode_connect(packet, transaction_id_);
        } catch (const TrackerError& e) {
            return finish(e.what());
        }
        state_.udp_connections[cache_key_] = {connection_id_, Clock::now()};
        phase_ = Phase::request;
        transaction_id_ = state_.random_u32();
        packet_ = exchange_.build(connection_id_, transaction_id_);
        attempt_ = 0;
        transmit();
        receive();
    }

    void finish(std::string error) { deliver(std::move(error), {}); }

    void deliver(std::string error, std::string packet) {
        if (done_) return;
        done_ = true;
        error_code ignored;
        retransmit_timer_.cancel();
        deadline_.cancel();
        resolver_.cancel();
        socket_.close(ignored);
        asio::post(state_.io, [done = std::move(exchange_.done), error = std::move(error),
                               packet = std::move(packet), txid = transaction_id_,
                               v6 = ipv6_] { done(error, packet, txid, v6); });
    }

    TrackerContext::State& state_;
    Url url_;
    std::string cache_key_;
    UdpExchange exchange_;
    Udp::resolver resolver_;
    Udp::socket socket_;
    asio::steady_timer retransmit_timer_;
    asio::steady_timer deadline_;
    std::vector<char> receive_buffer_;
    Phase phase_ = Phase::connect;
    std::uint64_t connection_id_ = 0;
    std::uint32_t transaction_id_ = 0;
    std::string packet_;
    int attempt_ = 0;
    unsigned timer_generation_ = 0;
    bool ipv6_ = false;
    bool done_ = false;
};

}  // namespace

std::shared_ptr<PendingRequest> udp_exchange(TrackerContext& ctx, const Url& url,
                                             std::optional<std::chrono::milliseconds> timeout,
                                             UdpExchange exchange) {
    auto request = std::make_shared<UdpRequest>(ctx, url, std::move(exchange));
    request->start(timeout);
    return request;
}

}  // namespace btd::tracker
