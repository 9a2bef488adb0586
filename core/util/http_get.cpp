#include "core/util/http_get.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>

#include "core/util/hash.hpp"

namespace btd {
namespace {

// OpenSSL's verdict that the peer's certificate chain (or its name) is not trusted.
bool certificate_rejected(const boost::system::error_code& ec) {
    return ec.category() == boost::asio::error::get_ssl_category() &&
           ERR_GET_REASON(ec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

std::string describe(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
    return std::to_string(d.count()) + " ms";
}

// Resolves a Location header against the URL that produced it.
std::optional<std::string> redirect_target(const Url& from, std::string_view location) {
    if (location.find("://") != std::string_view::npos) return std::string(location);
    if (location.starts_with("//")) return from.scheme + ":" + std::string(location);
    if (location.starts_with("/"))
        return from.scheme + "://" + from.host_header() + std::string(location);
    return std::nullopt;
}

class HttpGet : public HttpGetHandle, public std::enable_shared_from_this<HttpGet> {
  public:
    HttpGet(asio::io_context& io, asio::ssl::context& tls, HttpGetOptions options,
            std::function<void(HttpResult)> done)
        : io_(io),
          tls_context_(tls),
          options_(options),
          done_(std::move(done)),
          resolver_(io),
          deadline_(io),
          redirects_left_(options.max_redirects) {}

    void start(const std::string& url) {
        // Name resolution has no per-operation timeout, so one timer bounds the whole exchange.
        deadline_.expires_after(options_.timeout);
        deadline_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec) self->fail("timed out: no answer within " + describe(self->options_.timeout));
        });
        begin(url);
    }

    void cancel() override { fail("cancelled"); }

  private:
    void begin(const std::string& url) {
        std::string scheme = url_scheme(url);
        if (scheme != "http" && scheme != "https")
            return fail("unsupported URL scheme '" + scheme + "'");
        auto parsed = parse_http_url(url);
        if (!parsed) return fail("invalid URL '" + url + "'");
        url_ = *parsed;
        close_streams();
        plain_.reset();
        tls_.reset();
        if (url_.scheme == "https")
            tls_.emplace(io_, tls_context_);
        else
            plain_.emplace(io_);
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
        if (finished_) return;
        if (ec) return fail("cannot resolve " + url_.host + ": " + ec.message());
        if (!options_.bind.empty()) return connect_bound(results);
        lowest_layer().async_connect(
            results, [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
                self->on_connect(ec);
            });
    }

    // Bound before connecting, so the request leaves only from the bound address or interface:
    // the first resolved address of the bound address's family (any, for an interface).
    void connect_bound(const tcp::resolver::results_type& results) {
        const auto& bind = options_.bind;
        for (const auto& entry : results) {
            auto ep = entry.endpoint();
            if (bind.address && bind.address->is_v4() != ep.address().is_v4()) continue;
            auto& socket = lowest_layer().socket();
            error_code ec;
            socket.open(ep.protocol(), ec);
            if (!ec) ec = apply_bind_target(socket, bind);
            if (ec) return fail("cannot connect from " + bind.text() + ": " + ec.message());
            lowest_layer().async_connect(
                ep, [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
            return;
        }
        fail("no address of " + url_.host + " is reachable from " + bind.text());
    }

    void on_connect(error_code ec) {
        if (finished_) return;
        if (ec) return fail("cannot connect to " + url_.host_header() + ": " + ec.message());
        if (!tls_) return send();
        error_code not_an_address;
        asio::ip::make_address(url_.host, not_an_address);
        // SNI carries host names only, never address literals (RFC 6066).
        if (not_an_address) SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str());
        tls_->set_verify_mode(asio::ssl::verify_peer);
        tls_->set_verify_callback(asio::ssl::host_name_verification(url_.host));
        tls_->async_handshake(
            asio::ssl::stream_base::client, [self = shared_from_this()](error_code ec) {
                if (self->finished_) return;
                if (ec)
                    return self->fail(
                        "TLS handshake with " + self->url_.host + " failed: " + ec.message(),
                        certificate_rejected(ec));
                self->send();
            });
    }

    void send() {
        request_ = {options_.post_json ? http::verb::post : http::verb::get, url_.target, 11};
        if (options_.post_json) {
            request_.set(http::field::content_type, "application/json");
            request_.body() = *options_.post_json;
            request_.prepare_payload();
        }
        request_.set(http::field::host, url_.host_header());
        request_.set(http::field::user_agent,
                     std::string(kClientName) + "/" + std::string(kClientVersion));
        request_.set(http::field::accept_encoding, "identity");
        request_.set(http::field::connection, "close");
        with_stream([this](auto& stream) {
            http::async_write(stream, request_,
                              [self = shared_from_this()](error_code ec, std::size_t) {
                                  if (self->finished_) return;
                                  if (ec) return self->fail("cannot send request: " + ec.message());
                                  self->receive();
                              });
        });
    }

    void receive() {
        buffer_.clear();
        parser_.emplace();
        parser_->body_limit(options_.max_bytes);
        // Header first: Beast 1.74 misses the body limit when a Content-Length header and body
        // bytes arrive in the same read, so the declared length is checked here.
        with_stream([this](auto& stream) {
            http::async_read_header(
                stream, buffer_, *parser_,
                [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
        });
    }

    void on_header(error_code ec) {
        if (finished_) return;
        if (ec || parser_->is_done()) return on_response(ec);
        auto declared = parser_->content_length();
        if (declared && *declared > options_.max_bytes) return on_response(http::error::body_limit);
        with_stream([this](auto& stream) {
            http::async_read(
                stream, buffer_, *parser_,
                [self = shared_from_this()](error_code ec, std::size_t) { self->on_response(ec); });
        });
    }

    void on_response(error_code ec) {
        if (finished_) return;
        std::string too_large =
            "response larger than " + std::to_string(options_.max_bytes) + " bytes";
        if (ec == http::error::body_limit) return fail(too_large);
        if (ec) return fail("cannot read response: " + ec.message());
        auto response = parser_->release();
        if (response.body().size() > options_.max_bytes) return fail(too_large);
        unsigned status = response.result_int();
        if (status >= 300 && status < 400 && response.count(http::field::location) &&
            !options_.post_json) {
            if (redirects_left_-- <= 0) return fail("too many redirects");
            auto next = redirect_target(url_, response[http::field::location]);
            if (!next) return fail("redirect to an unsupported location");
            // Start over from a fresh handler: the old stream is replaced inside begin().
            asio::post(io_, [self = shared_from_this(), next = std::move(*next)] {
                if (!self->finished_) self->begin(next);
            });
            return;
        }
        HttpResult result;
        result.status = status;
        result.body = std::move(response.body());
        deliver(std::move(result));
    }

    void fail(std::string error, bool rejected_certificate = false) {
        HttpResult result;
        result.error = std::move(error);
        result.certificate_rejected = rejected_certificate;
        deliver(std::move(result));
    }

    void deliver(HttpResult result) {
        if (finished_) return;
        finished_ = true;
        deadline_.cancel();
        resolver_.cancel();
        close_streams();
        asio::post(io_, [done = std::move(done_), result = std::move(result)]() mutable {
            done(std::move(result));
        });
    }

    void close_streams() {
        if (plain_ || tls_) {
            error_code ignored;
            lowest_layer().socket().close(ignored);
        }
    }

    asio::io_context& io_;
    asio::ssl::context& tls_context_;
    HttpGetOptions options_;
    std::function<void(HttpResult)> done_;
    tcp::resolver resolver_;
    asio::steady_timer deadline_;
    int redirects_left_;
    bool finished_ = false;
    Url url_;
    std::optional<beast::tcp_stream> plain_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

std::shared_ptr<HttpGetHandle> http_get(asio::io_context& io, asio::ssl::context& tls,
                                        const std::string& url, HttpGetOptions options,
                                        std::function<void(HttpResult)> done) {
    auto request = std::make_shared<HttpGet>(io, tls, options, std::move(done));
    request->start(url);
    return request;
}

}  // namespace btd
