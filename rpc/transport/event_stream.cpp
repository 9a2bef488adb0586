#include "rpc/transport/event_stream.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/write.hpp>

namespace btd::rpc::transport {
namespace {

namespace asio = boost::asio;

constexpr std::string_view kResponseHead =
    "HTTP/1.1 200 OK\r\n"
    "Server: btd\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Connection: close\r\n"
    "\r\n"
    "retry: 2000\n\n";

constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 33\r\n"
    "Connection: close\r\n\r\ntoo many event clients; try later\n";

}  // namespace

struct EventStream::Client {
    explicit Client(asio::ip::tcp::socket s) : socket(std::move(s)) {}
    asio::ip::tcp::socket socket;
    std::deque<std::shared_ptr<const std::string>> queue;
    std::size_t queued_bytes = 0;
    bool writing = false;
    bool close_after_flush = false;  // the 503 answer: close once it is written
    bool dropped = false;
    std::array<char, 512> read_buffer{};
};

std::string sse_frame(std::uint64_t id, std::string_view type, const nlohmann::json& data) {
    std::string frame;
    if (id != 0) frame += "id: " + std::to_string(id) + "\n";
    frame += "event: ";
    frame += type;
    frame += "\ndata: ";
    frame += data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    frame += "\n\n";
    return frame;
}

EventStream::EventStream(asio::io_context& io, EventStreamOptions options)
    : options_(options), timer_(io) {}

EventStream::~EventStream() {
    try {
        stop();
    } catch (const std::exception& e) {  // a destructor must not throw
        spdlog::warn("closing the event stream: {}", e.what());
    }
}

std::uint64_t EventStream::publish(std::string type, const nlohmann::json& data) {
    auto id = next_id_++;
    auto frame = std::make_shared<const std::string>(sse_frame(id, type, data));
    history_.emplace_back(id, frame);
    while (history_.size() > options_.history) history_.pop_front();
    broadcast(frame);
    return id;
}

void EventStream::set_stats_source(std::function<nlohmann::json()> source) {
    stats_source_ = std::move(source);
}

void EventStream::attach(asio::ip::tcp::socket socket, std::optional<std::uint64_t> last_event_id) {
    boost::system::error_code ignored;  // the default buffer is fine too
    // Bounds what the kernel holds for a client that stopped reading, so it is found out soon.
    socket.set_option(asio::socket_base::send_buffer_size(64 * 1024), ignored);
    auto client = std::make_shared<Client>(std::move(socket));
    if (stopped_ || clients_.size() >= options_.max_clients) {
        client->close_after_flush = true;
        enqueue(client, std::make_shared<const std::string>(kBusy));
        return;
    }
    clients_.push_back(client);
    enqueue(client, std::make_shared<const std::string>(kResponseHead));
    if (last_event_id) replay(client, *last_event_id);
    watch_for_close(client);
    schedule_tick();
}

// What the client missed, from the history; a `reset` when the history cannot tell.
void EventStream::replay(const std::shared_ptr<Client>& client, std::uint64_t last_event_id) {
    std::uint64_t oldest = history_.empty() ? next_id_ : history_.front().first;
    if (last_event_id > last_id() || last_event_id + 1 < oldest) {
        nlohmann::json data = {{"reason", "events after id " + std::to_string(last_event_id) +
                                              " are no longer known; reload the state"},
                               {"last_id", last_id()}};
        enqueue(client, std::make_shared<const std::string>(sse_frame(0, "reset", data)));
        return;
    }
    for (const auto& [id, frame] : history_)
        if (id > last_event_id) enqueue(client, frame);
}

void EventStream::broadcast(const std::shared_ptr<const std::string>& frame) {
    auto clients = clients_;  // enqueue may drop a client
    for (const auto& client : clients) enqueue(client, frame);
}

void EventStream::enqueue(const std::shared_ptr<Client>& client,
                          std::shared_ptr<const std::string> frame) {
    if (client->dropped) return;
    if (client->queued_bytes + frame->size() > options_.client_buffer_bytes) {
        spdlog::info("events: dropping a client that does not read ({} bytes unsent)",
                     client->queued_bytes);
        ++dropped_;
        return drop(client);
    }
    client->queued_bytes += frame->size();
    client->queue.push_back(std::move(frame));
    if (!client->writing) write_next(client);
}

void EventStream::write_next(const std::shared_ptr<Client>& client) {
    if (client->queue.empty()) {
        client->writing = false;
        if (client->close_after_flush) drop(client);
        return;
    }
    client->writing = true;
    auto frame = client->queue.front();
    asio::async_write(
        client->socket, asio::buffer(*frame),
        [self = weak_from_this(), client, frame](boost::system::error_code ec, std::size_t) {
            client->queued_bytes -= frame->size();
            client->queue.pop_front();
            client->writing = false;
            auto stream = self.lock();
            if (!stream || client->dropped) return;
            if (ec) return stream->drop(client);
            stream->write_next(client);
        });
}

// An SSE client sends nothing after its request: any read completion means it closed (or sent
// garbage), so it is dropped and its slot freed.
void EventStream::watch_for_close(const std::shared_ptr<Client>& client) {
    client->socket.async_read_some(
        asio::buffer(client->read_buffer),
        [self = weak_from_this(), client](boost::system::error_code ec, std::size_t) {
            if (ec == asio::error::operation_aborted) return;
            if (auto stream = self.lock()) stream->drop(client);
        });
}

void EventStream::drop(const std::shared_ptr<Client>& client) {
    std::erase(clients_, client);
    if (client->dropped) return;
    client->dropped = true;  // a write in flight fails and lets go of the queue with the client
    boost::system::error_code ignored;
    client->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    client->socket.close(ignored);
}

void EventStream::schedule_tick() {
    if (ticking_ || stopped_ || clients_.empty()) return;
    ticking_ = true;
    timer_.expires_after(options_.stats_interval);
    timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
        auto stream = self.lock();
        if (!stream) return;
        stream->ticking_ = false;
        if (!ec) stream->tick();
    });
}

void EventStream::tick() {
    if (clients_.empty()) return;
    if (stats_source_) {
        auto stats = stats_source_();
        if (!stats.is_null())
            broadcast(std::make_shared<const std::string>(sse_frame(0, "stats", stats)));
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_keepalive_ >= options_.keepalive) {
        last_keepalive_ = now;
        broadcast(std::make_shared<const std::string>(": keepalive\n\n"));
    }
    schedule_tick();
}

void EventStream::stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.cancel();
    auto clients = std::move(clients_);
    clients_.clear();
    for (const auto& client : clients) drop(client);
}

}  // namespace btd::rpc::transport
