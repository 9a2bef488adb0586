#include "core/tracker/http_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "core/tracker/announce_url.hpp"

namespace btd::tracker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::string host_header(const ParsedUrl& u) {
    std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    bool default_port =
        (u.scheme == "http" && u.port == 80) || (u.scheme == "https" && u.port == 443);
    return default_port ? host : host + ":" + std::to_string(u.port);
}

// Resolves a Location header against the URL that produced it.
std::optional<std::string> redirect_target(const ParsedUrl& from, std::string_view location) {
    if (location.find("://") != std::string_view::npos) return std::string(location);
    if (location.starts_with("//")) return from.scheme + ":" + std::string(location);
    if (location.starts_with("/"))
        return from.scheme + "://" + host_header(from) + std::string(location);
    return std::nullopt;
}

class HttpGet : public PendingRequest, public std::enable_shared_from_this<HttpGet> {
  public:
    HttpGet(TrackerContext& ctx, std::chrono::milliseconds timeout,
            std::function<void(HttpResult)> handler)
        : state_(ctx.state()),
          timeout_(timeout),
          handler_(std::move(handler)),
          resolver_(state_.io),
          deadline_(state_.io),
          redirects_left_(state_.settings.max_redirects) {}

    void start(const std::string& url) {
        deadline_.expires_after(timeout_);
        deadline_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec)
                self->finish("no answer within " + std::to_string(self->timeout_.count() / 1000) +
                             " s");
        });
        begin(url);
    }

    void cancel() override { finish("cancelled"); }

  private:
    void begin(const std::string& url) {
        std::string scheme = url_scheme(url);
        if (scheme != "http" && scheme != "https")
            return finish("unsupported URL scheme '" + scheme + "'");
        auto parsed = parse_url(url);
        if (!parsed) return finish("invalid URL '" + url + "'");
        url_ = *parsed;
        close_streams();
        plain_.reset();
        tls_.reset();
        if (url_.scheme == "https")
            tls_.emplace(state_.io, state_.tls);
        else
            plain_.emplace(state_.io);
        resolver_.async_resolve(
            url_.host, std::to_string(url_.port),
            [self = shared_from_this()](error_code ec, tcp::resolver::results_type results) {
                self->on_resolve(ec, results);
            });
    }

    template <class F>
    void with_stream(F&& f) {
        if (tls_)
            f(*tls_);
        else
            f(*plain_);
    }

    beast::tcp_stream& lowest_layer() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

    void on_resolve(error_code ec, const tcp::resolver::results_type& results) {
        if (done_) return;
        if (ec) return finish("cannot resolve " + url_.host + ": " + ec.message());
        lowest_layer().async_connect(
            results, [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
                self->on_connect(ec);
            });
    }

    void on_connect(error_code ec) {
        if (done_) return;
        if (ec) return finish("cannot connect to " + host_header(url_) + ": " + ec.message());
        if (!tls_) return send();
        error_code addr_ec;
        asio::ip::make_address(url_.host, addr_ec);
        if (addr_ec) SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str());  // SNI
        tls_->set_verify_callback(asio::ssl::host_name_verification(url_.host));
        tls_->async_handshake(asio::ssl::stream_base::client,
                              [self = shared_from_this()](error_code ec) {
                                  if (self->done_) return;
                                  if (ec)
                                      return self->finish("TLS handshake failed: " + ec.message());
                                  self->send();
                              });
    }

    void send() {
        request_ = {};
        request_.method(http::verb::get);
        request_.target(url_.target);
        request_.version(11);
        request_.set(http::field::host, host_header(url_));
        request_.set(http::field::user_agent,
                     std::string(kClientName) + "/" + std::string(kClientVersion));
        request_.set(http::field::accept_encoding, "identity");
        request_.set(http::field::connection, "close");
        with_stream([this](auto& stream) {
            http::async_write(
                stream, request_, [self = shared_from_this()](error_code ec, std::size_t) {
                    if (self->done_) return;
                    if (ec) return self->finish("sending request failed: " + ec.message());
                    self->receive();
                });
        });
    }

    void receive() {
        buffer_.clear();
        parser_.emplace();
        parser_->body_limit(state_.settings.max_response_bytes);
        // Header first: Beast 1.74 misses the body limit when a Content-Length header and body
        // bytes arrive in the same read, so the declared length is checked here.
        with_stream([this](auto& stream) {
            http::async_read_header(
                stream, buffer_, *parser_,
                [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
        });
    }

    void on_header(error_code ec) {
        if (done_) return;
        if (ec) return on_response(ec);
        auto declared = parser_->content_length();
        if (declared && *declared > state_.settings.max_response_bytes)
            return on_response(http::error::body_limit);
        with_stream([this](auto& stream) {
            http::async_read(
                stream, buffer_, *parser_,
                [self = shared_from_this()](error_code ec, std::size_t) { self->on_response(ec); });
        });
    }

    void on_response(error_code ec) {
        if (done_) return;
        if (ec == http::error::body_limit)
            return finish("response larger than " +
                          std::to_string(state_.settings.max_response_bytes) + " bytes");
        if (ec) return finish("reading response failed: " + ec.message());
        auto response = parser_->release();
        unsigned status = response.result_int();
        if (status >= 300 && status < 400 && response.count(http::field::location)) {
            if (redirects_left_-- <= 0) return finish("too many redirects");
            auto next = redirect_target(url_, response[http::field::location]);
            if (!next) return finish("redirect to an unsupported location");
            // Start over from a fresh handler: the old stream is replaced inside begin().
            asio::post(state_.io, [self = shared_from_this(), next = std::move(*next)] {
                if (!self->done_) self->begin(next);
            });
            return;
        }
        HttpResult result;
        result.status = status;
        result.body = std::move(response.body());
        deliver(std::move(result));
    }

    void finish(std::string error) {
        HttpResult result;
        result.error = std::move(error);
        deliver(std::move(result));
    }

    void deliver(HttpResult result) {
        if (done_) return;
        done_ = true;
        deadline_.cancel();
        resolver_.cancel();
        close_streams();
        asio::post(state_.io,
                   [handler = std::move(handler_), result = std::move(result)]() mutable {
                       handler(std::move(result));
                   });
    }

    void close_streams() {
        if (plain_ || tls_) {
            error_code ignored;
            lowest_layer().socket().close(ignored);
        }
    }

    TrackerContext::State& state_;
    std::chrono::milliseconds timeout_;
    std::function<void(HttpResult)> handler_;
    tcp::resolver resolver_;
    asio::steady_timer deadline_;
    int redirects_left_;
    bool done_ = false;
    ParsedUrl url_;
    std::optional<beast::tcp_stream> plain_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
    beast::flat_buffer buffer_;
    http::request<http::empty_body> request_;
    std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

std::shared_ptr<PendingRequest> http_get(TrackerContext& ctx, const std::string& url,
                                         std::chrono::milliseconds timeout,
                                         std::function<void(HttpResult)> handler) {
    auto request = std::make_shared<HttpGet>(ctx, timeout, std::move(handler));
    request->start(url);
    return request;
}

}  // namespace btd::tracker
