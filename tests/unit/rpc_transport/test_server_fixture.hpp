#pragma once
// A real RpcServer on 127.0.0.1 (port 0) running on its own thread, and a raw HTTP client with
// timeouts, for the HTTP tests. Every wait is bounded.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "rpc/transport/http_server.hpp"

namespace btd::rpc::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class ServerFixture {
  public:
    // `setup` registers methods on the dispatcher before the server starts.
    explicit ServerFixture(RpcServerOptions options,
                           const std::function<void(Dispatcher&, asio::io_context&)>& setup = {}) {
        options.address = "127.0.0.1";
        options.port = 0;
        if (setup) setup(dispatcher, io);
        server = std::make_unique<RpcServer>(io, options, dispatcher);
        server->start();
        port = server->local_endpoint().port();
        thread = std::thread([this] { io.run(); });
    }
    ~ServerFixture() {
        on_io([this] { server->stop(); });
        io.stop();
        thread.join();
    }

    // Runs f on the server's thread and waits (bounded) for its result.
    template <class F>
    auto on_io(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        asio::post(io, [&task] { task(); });
        if (result.wait_for(5s) != std::future_status::ready)
            throw std::runtime_error("server thread did not answer");
        return result.get();
    }

    std::size_t connections() {
        return on_io([this] { return server->connection_count(); });
    }

    asio::io_context io;
    Dispatcher dispatcher;
    std::unique_ptr<RpcServer> server;
    std::uint16_t port = 0;
    std::thread thread;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
};

// One client connection; each operation runs the client's own io_context for a bounded time.
class RawClient {
  public:
    explicit RawClient(std::uint16_t port) : stream_(io_) {
        connected =
            run([&](auto done) {
                stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                      [done](beast::error_code ec) { done(ec); });
            }) == beast::error_code{};
    }

    bool send(const std::string& bytes) {
        return run([&](auto done) {
                   asio::async_write(stream_, asio::buffer(bytes),
                                     [done](beast::error_code ec, std::size_t) { done(ec); });
               }) == beast::error_code{};
    }

    std::optional<http::response<http::string_body>> read_response(
        std::chrono::milliseconds timeout = 5s) {
        http::response<http::string_body> response;
        auto ec = run(
            [&](auto done) {
                http::async_read(stream_, buffer_, response,
                                 [done](beast::error_code e, std::size_t) { done(e); });
            },
            timeout);
        if (ec) return std::nullopt;
        return response;
    }

    // True if the server closes the connection (EOF or reset) within `timeout`.
    bool closed_by_server(std::chrono::milliseconds timeout) {
        char byte;
        auto ec = run(
            [&](auto done) {
                stream_.async_read_some(asio::buffer(&byte, 1),
                                        [done](beast::error_code e, std::size_t) { done(e); });
            },
            timeout);
        return ec && ec != asio::error::timed_out;
    }

    bool connected = false;

  private:
    template <class Start>
    beast::error_code run(Start start, std::chrono::milliseconds timeout = 5s) {
        io_.restart();
        std::optional<beast::error_code> result;
        start([&result](beast::error_code ec) { result = ec; });
        io_.run_for(timeout);
        if (!result) {
            stream_.cancel();
            io_.restart();
            io_.run_for(1s);  // let the cancelled operation finish
            return asio::error::timed_out;
        }
        return *result;
    }

    asio::io_context io_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

inline std::string rpc_request(std::uint16_t port, const std::string& body,
                               const std::string& extra_headers = "",
                               const std::string& host = "") {
    std::string h = host.empty() ? "127.0.0.1:" + std::to_string(port) : host;
    return "POST /rpc HTTP/1.1\r\nHost: " + h +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n" + extra_headers + "\r\n" + body;
}

}  // namespace btd::rpc::test
