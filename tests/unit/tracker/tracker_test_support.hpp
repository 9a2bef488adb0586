#pragma once
// Helpers for the tracker tests: a bounded io_context runner, a scripted HTTP server and a
// scripted UDP responder on 127.0.0.1, and an opentracker child process.
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace tracker_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs io until pred() holds or the time is up; returns pred().
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(10ms);
    }
    return pred();
}

// Serves each connection with reply(request_target): the raw response bytes, sent after delay.
class HttpServer {
  public:
    struct Reply {
        std::string raw;
        std::chrono::milliseconds delay{0};
    };
    using Script = std::function<Reply(const std::string& target)>;

    HttpServer(asio::io_context& io, Script script)
        : io_(io),
          acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}),
          script_(std::move(script)) {
        accept();
    }
    ~HttpServer() {
        boost::system::error_code ec;
        acceptor_.close(ec);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string url(const std::string& path = "/announce") const {
        return "http://127.0.0.1:" + std::to_string(port()) + path;
    }
    const std::vector<std::string>& targets() const { return targets_; }

    static std::string ok(const std::string& body, const std::string& status = "200 OK") {
        return "HTTP/1.1 " + status +
               "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body;
    }

  private:
    struct Conn {
        explicit Conn(asio::io_context& io) : socket(io), timer(io) {}
        asio::ip::tcp::socket socket;
        asio::steady_timer timer;
        asio::streambuf in;
        std::string out;
    };

    void accept() {
        auto conn = std::make_shared<Conn>(io_);
        acceptor_.async_accept(conn->socket, [this, conn](boost::system::error_code ec) {
            if (ec) return;
            read(conn);
            accept();
        });
    }

    void read(std::shared_ptr<Conn> conn) {
        asio::async_read_until(conn->socket, conn->in, "\r\n\r\n",
                               [this, conn](boost::system::error_code ec, std::size_t) {
                                   if (ec) return;
                                   std::istream is(&conn->in);
                                   std::string method, target;
                                   is >> method >> target;
                                   targets_.push_back(target);
                                   Reply reply = script_(target);
                                   conn->out = std::move(reply.raw);
                                   conn->timer.expires_after(reply.delay);
                                   conn->timer.async_wait([conn](boost::system::error_code) {
                                       asio::async_write(
                                           conn->socket, asio::buffer(conn->out),
                                           [conn](boost::system::error_code, std::size_t) {
                                               boost::system::error_code ignored;
                                               conn->socket.shutdown(
                                                   asio::ip::tcp::socket::shutdown_both, ignored);
                                           });
                                   });
                               });
    }

    asio::io_context& io_;
    asio::ip::tcp::acceptor acceptor_;
    Script script_;
    std::vector<std::string> targets_;
};

// A UDP socket on 127.0.0.1 that answers each datagram with the packets script(packet) returns
// (none: silence).
class UdpServer {
  public:
    using Script = std::function<std::vector<std::string>(const std::string& packet)>;
    UdpServer(asio::io_context& io, Script script, const std::string& address = "127.0.0.1")
        : socket_(io, {asio::ip::make_address(address), 0}), script_(std::move(script)) {
        receive();
    }
    ~UdpServer() {
        boost::system::error_code ec;
        socket_.close(ec);
    }
    std::uint16_t port() const { return socket_.local_endpoint().port(); }
    std::string url() const {
        auto address = socket_.local_endpoint().address();
        std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
        return "udp://" + host + ":" + std::to_string(port()) + "/announce";
    }
    const std::vector<std::string>& received() const { return received_; }

  private:
    void receive() {
        socket_.async_receive_from(asio::buffer(buf_), from_,
                                   [this](boost::system::error_code ec, std::size_t n) {
                                       if (ec) return;
                                       std::string packet(buf_.data(), n);
                                       received_.push_back(packet);
                                       for (const auto& reply : script_(packet)) {
                                           boost::system::error_code ignored;
                                           socket_.send_to(asio::buffer(reply), from_, 0, ignored);
                                       }
                                       receive();
                                   });
    }

    asio::ip::udp::socket socket_;
    Script script_;
    std::array<char, 2048> buf_{};
    asio::ip::udp::endpoint from_;
    std::vector<std::string> received_;
};

// A port nobody listens on right now (bound then released), for "connection refused" cases.
inline std::uint16_t free_tcp_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}
inline std::uint16_t free_udp_port() {
    asio::io_context io;
    asio::ip::udp::socket s(io, {asio::ip::make_address("127.0.0.1"), 0});
    return s.local_endpoint().port();
}

// Debian's opentracker, built with an access whitelist: we whitelist the test info-hash.
class OpenTracker {
  public:
    static constexpr const char* kBinary = "/usr/bin/opentracker";
    static bool available() { return ::access(kBinary, X_OK) == 0; }

    explicit OpenTracker(const std::string& info_hash_hex) {
        char templ[] = "/tmp/btd-opentracker-XXXXXX";
        if (!::mkdtemp(templ)) return;
        dir_ = templ;
        ::chmod(dir_.c_str(), 0755);  // opentracker drops to "nobody" and chroots here
        std::ofstream(dir_ + "/whitelist") << info_hash_hex << "\n";
        ::chmod((dir_ + "/whitelist").c_str(), 0644);
        tcp_port_ = free_tcp_port();
        udp_port_ = free_udp_port();
        std::string tcp = std::to_string(tcp_port_), udp = std::to_string(udp_port_);
        std::vector<std::string> args = {kBinary, "-i", "127.0.0.1", "-p", tcp,        "-P",
                                         udp,     "-d", dir_,        "-w", "whitelist"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        if (posix_spawn(&pid_, kBinary, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&actions);
    }
    ~OpenTracker() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
                ::usleep(20'000);
            if (::waitpid(pid_, &status, WNOHANG) == 0) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
            }
        }
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }
    bool running() const { return pid_ > 0; }
    std::string http_url() const {
        return "http://127.0.0.1:" + std::to_string(tcp_port_) + "/announce";
    }
    std::string udp_url() const { return "udp://127.0.0.1:" + std::to_string(udp_port_); }

    // Waits until the TCP port accepts connections (bounded).
    bool wait_ready() const {
        for (int i = 0; i < 100; ++i) {
            asio::io_context io;
            asio::ip::tcp::socket s(io);
            boost::system::error_code ec;
            s.connect({asio::ip::make_address("127.0.0.1"), tcp_port_}, ec);
            if (!ec) return true;
            ::usleep(20'000);
        }
        return false;
    }

  private:
    std::string dir_;
    std::uint16_t tcp_port_ = 0, udp_port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace tracker_test
