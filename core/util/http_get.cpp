#include "core/util/http_get.hpp"

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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string describe(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
    return std::to_string(d.count()) + " ms";
}

// Resolves a Location header against the URL that produced it.
std::optional<std::string> redirect_target(const HttpUrl& from, std::string_view location) {
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
        auto sep = url.find("://");
        std::string scheme = sep == std::string::npos ? std::string() : lower(url.substr(0, sep));
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
        lowest_layer().async_connect(
            results, [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
                self->on_connect(ec);
            });
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
        tls_->async_handshake(asio::ssl::stream_base::client,
                              [self = shared_from_this()](error_code ec) {
                                  if (self->finished_) return;
                                  if (ec)
                                      return self->fail("TLS handshake with " + self->url_.host +
                                                        " failed: " + ec.message());
                                  self->send();
                              });
    }

    void send() {
        request_ = {http::verb::get, url_.target, 11};
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
        if (status >= 300 && status < 400 && response.count(http::field::location)) {
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

    void fail(std::string error) {
        HttpResult result;
        result.error = std::move(error);
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
    HttpUrl url_;
    std::optional<beast::tcp_stream> plain_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
    beast::flat_buffer buffer_;
    http::request<http::empty_body> request_;
    std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

std::string HttpUrl::host_header() const {
    std::string h = ipv6_literal ? "[" + host + "]" : host;
    bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
    if (!default_port) h += ":" + std::to_string(port);
    return h;
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
    HttpUrl out;
    auto sep = url.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    out.scheme = lower(url.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
    out.port = out.scheme == "http" ? 80 : 443;

    auto rest = url.substr(sep + 3);
    auto path_start = rest.find_first_of("/?#");
    auto authority = rest.substr(0, path_start);
    auto path = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    path = path.substr(0, path.find('#'));
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

    std::string_view port_text;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = std::string(authority.substr(1, close - 1));
        out.ipv6_literal = true;
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (out.host.empty()) return std::nullopt;
    if (!port_text.empty()) {
        unsigned port = 0;
        auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
            port > 65535)
            return std::nullopt;
        out.port = static_cast<std::uint16_t>(port);
    }
    out.target = path.empty() ? "/" : std::string(path);
    if (out.target.front() == '?') out.target.insert(0, "/");
    return out;
}

std::shared_ptr<HttpGetHandle> http_get(asio::io_context& io, asio::ssl::context& tls,
                                        const std::string& url, HttpGetOptions options,
                                        std::function<void(HttpResult)> done) {
    auto request = std::make_shared<HttpGet>(io, tls, options, std::move(done));
    request->start(url);
    return request;
}

}  // namespace btd
