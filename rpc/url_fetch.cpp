#include "rpc/url_fetch.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "rpc/url.hpp"

namespace btd::rpc {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Fetch : public std::enable_shared_from_this<Fetch> {
  public:
    Fetch(asio::io_context& io, asio::ssl::context& tls, FetchOptions options, FetchCallback done)
        : io_(io),
          tls_(tls),
          options_(options),
          done_(std::move(done)),
          resolver_(io),
          timer_(io),
          deadline_(std::chrono::steady_clock::now() + options.timeout) {}

    void start(const std::string& url) {
        auto parsed = parse_http_url(url);
        if (!parsed) return finish("not an http(s) URL: " + url);
        url_ = *parsed;
        // Name resolution has no per-operation timeout, so one timer bounds the whole fetch.
        timer_.expires_at(deadline_);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec) {
                self->resolver_.cancel();
                self->finish("timed out");
            }
        });
        resolve();
    }

  private:
    void resolve() {
        plain_.reset();
        secure_.reset();
        resolver_.async_resolve(
            url_.host, std::to_string(url_.port),
            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                if (ec)
                    return self->finish("cannot resolve " + self->url_.host + ": " + ec.message());
                self->connect(results);
            });
    }

    beast::tcp_stream& lowest() { return secure_ ? beast::get_lowest_layer(*secure_) : *plain_; }

    void connect(const tcp::resolver::results_type& results) {
        if (url_.scheme == "https") {
            secure_.emplace(io_, tls_);
            auto* ssl = secure_->native_handle();
            if (!url_.ipv6_literal) SSL_set_tlsext_host_name(ssl, url_.host.c_str());
            secure_->set_verify_mode(asio::ssl::verify_peer);
            secure_->set_verify_callback(asio::ssl::host_name_verification(url_.host));
        } else {
            plain_.emplace(io_);
        }
        lowest().expires_at(deadline_);
        lowest().async_connect(results, [self = shared_from_this()](beast::error_code ec,
                                                                    const tcp::endpoint&) {
            if (ec)
                return self->finish("cannot connect to " + self->url_.host + ": " + ec.message());
            if (!self->secure_) return self->send(*self->plain_);
            self->lowest().expires_at(self->deadline_);
            self->secure_->async_handshake(
                asio::ssl::stream_base::client, [self](beast::error_code hec) {
                    if (hec)
                        return self->finish("TLS handshake with " + self->url_.host +
                                            " failed: " + hec.message());
                    self->send(*self->secure_);
                });
        });
    }

    template <class Stream>
    void send(Stream& stream) {
        request_ = {http::verb::get, url_.target, 11};
        request_.set(http::field::host, url_.host_header());
        request_.set(http::field::user_agent, "btd/0.1.0");
        request_.set(http::field::accept, "application/x-bittorrent, */*");
        request_.set(http::field::connection, "close");
        lowest().expires_at(deadline_);
        http::async_write(stream, request_,
                          [self = shared_from_this(), &stream](beast::error_code ec, std::size_t) {
                              if (ec) return self->finish("cannot send request: " + ec.message());
                              self->receive(stream);
                          });
    }

    template <class Stream>
    void receive(Stream& stream) {
        parser_.emplace();
        parser_->body_limit(options_.max_bytes);
        buffer_.max_size(options_.max_bytes + 64 * 1024);
        lowest().expires_at(deadline_);
        // Header first: Beast 1.74 skips the Content-Length vs body_limit check when the header
        // and body are parsed in one eager pass, so the limit is enforced at the header.
        http::async_read_header(
            stream, buffer_, *parser_,
            [self = shared_from_this(), &stream](beast::error_code ec, std::size_t) {
                if (ec || self->parser_->is_done()) return self->on_response(ec);
                http::async_read(
                    stream, self->buffer_, *self->parser_,
                    [self](beast::error_code ec2, std::size_t) { self->on_response(ec2); });
            });
    }

    void on_response(beast::error_code ec) {
        if (ec == http::error::body_limit)
            return finish("the file is larger than " + std::to_string(options_.max_bytes) +
                          " bytes");
        if (ec == beast::error::timeout) return finish("timed out");
        if (ec) return finish("cannot read response: " + ec.message());
        auto& response = parser_->get();
        if (response.body().size() > options_.max_bytes)
            return finish("the file is larger than " + std::to_string(options_.max_bytes) +
                          " bytes");
        auto status = response.result_int();
        if (status >= 300 && status < 400 && response.count(http::field::location)) {
            if (redirects_++ >= options_.max_redirects) return finish("too many redirects");
            std::string location(response[http::field::location]);
            if (!location.empty() && location.front() == '/') {
                url_.target = location;  // same host
            } else {
                auto next = parse_http_url(location);
                if (!next) return finish("unsupported redirect to " + location);
                url_ = *next;
            }
            buffer_.clear();
            return resolve();
        }
        if (status != 200)
            return finish("server answered HTTP " + std::to_string(status) + " " +
                          std::string(response.reason()));
        finish({}, std::move(response.body()));
    }

    void finish(std::string error, std::string body = {}) {
        beast::error_code ignored;
        timer_.cancel();
        if (plain_) plain_->socket().close(ignored);
        if (secure_) beast::get_lowest_layer(*secure_).socket().close(ignored);
        if (done_) {
            auto done = std::move(done_);
            done_ = nullptr;
            done(std::move(error), std::move(body));
        }
    }

    asio::io_context& io_;
    asio::ssl::context& tls_;
    FetchOptions options_;
    FetchCallback done_;
    tcp::resolver resolver_;
    asio::steady_timer timer_;
    std::chrono::steady_clock::time_point deadline_;
    HttpUrl url_;
    int redirects_ = 0;
    std::optional<beast::tcp_stream> plain_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
    http::request<http::empty_body> request_;
    std::optional<http::response_parser<http::string_body>> parser_;
    beast::flat_buffer buffer_;
};

}  // namespace

void fetch_url(asio::io_context& io, asio::ssl::context& tls, const std::string& url,
               FetchOptions options, FetchCallback done) {
    std::make_shared<Fetch>(io, tls, options, std::move(done))->start(url);
}

std::shared_ptr<asio::ssl::context> make_client_tls_context() {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_default_verify_paths();
    ctx->set_verify_mode(asio::ssl::verify_peer);
    return ctx;
}

}  // namespace btd::rpc
