#pragma once
// `GET /events`: Server-Sent Events to any number of clients. Discrete events (torrent-added,
// state-changed, completed, error, removed) get increasing ids and are kept in a bounded history,
// so a client that reconnects with Last-Event-ID receives what it missed (or a `reset` event when
// the history no longer reaches back that far, e.g. after a daemon restart). `stats` events carry
// no id: they are a coalesced snapshot at most once per `stats_interval`, made only while someone
// listens. Each client has a bounded send buffer: a client that does not read is dropped, never
// waited for. Network thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace btd::rpc::transport {

struct EventStreamOptions {
    std::size_t history = 1024;                    // discrete events kept for Last-Event-ID
    std::size_t client_buffer_bytes = 256 * 1024;  // unsent bytes per client before it is dropped
    std::size_t max_clients = 512;                 // beyond this a new client gets 503
    std::chrono::milliseconds stats_interval{1000};
    std::chrono::milliseconds keepalive{15000};  // a comment line keeps proxies from closing
};

class EventStream : public std::enable_shared_from_this<EventStream> {
  public:
    EventStream(boost::asio::io_context& io, EventStreamOptions options = {});
    ~EventStream();

    // Sends a discrete event to every client and keeps it in the history; returns its id.
    std::uint64_t publish(std::string type, const nlohmann::json& data);
    // Called at most once per stats_interval while clients are connected; a null result sends
    // nothing (nothing changed).
    void set_stats_source(std::function<nlohmann::json()> source);
    // Takes over an accepted connection whose request was authorised: writes the response head,
    // then what the client missed after `last_event_id` (nullopt: nothing is replayed).
    void attach(boost::asio::ip::tcp::socket socket, std::optional<std::uint64_t> last_event_id);
    void stop();  // closes every client; later attach() calls close their socket at once

    std::size_t client_count() const { return clients_.size(); }
    std::uint64_t last_id() const { return next_id_ - 1; }
    std::uint64_t dropped_clients() const { return dropped_; }

    struct Client;

  private:
    void broadcast(const std::shared_ptr<const std::string>& frame);
    void enqueue(const std::shared_ptr<Client>& client, std::shared_ptr<const std::string> frame);
    void write_next(const std::shared_ptr<Client>& client);
    void watch_for_close(const std::shared_ptr<Client>& client);
    void drop(const std::shared_ptr<Client>& client);
    void replay(const std::shared_ptr<Client>& client, std::uint64_t last_event_id);
    void schedule_tick();
    void tick();

    EventStreamOptions options_;
    std::function<nlohmann::json()> stats_source_;
    std::deque<std::pair<std::uint64_t, std::shared_ptr<const std::string>>> history_;
    std::vector<std::shared_ptr<Client>> clients_;
    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::time_point last_keepalive_;
    std::uint64_t next_id_ = 1;
    std::uint64_t dropped_ = 0;
    bool ticking_ = false;
    bool stopped_ = false;
};

// One SSE frame: "id: N\nevent: TYPE\ndata: JSON\n\n" (no id line when id is 0).
std::string sse_frame(std::uint64_t id, std::string_view type, const nlohmann::json& data);

}  // namespace btd::rpc::transport
