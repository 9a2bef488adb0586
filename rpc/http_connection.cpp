#include "rpc/http_connection.hpp"

#include <spdlog/spdlog.h>

#include "rpc/http_server_state.hpp"
#include "rpc/request_checks.hpp"

namespace btd::rpc {
namespace {

namespace beast = boost::beast;
constexpr std::string_view kServerName = "btd";
constexpr std::string_view kRpcPath = "/rpc";

}  // namespace

HttpConnection::HttpConnection(boost::asio::ip::tcp::socket socket,
                               std::shared_ptr<RpcServer::State> state, std::uint64_t id)
    : stream_(std::move(socket)), state_(std::move(state)), id_(id) {}

HttpConnection::~HttpConnection() {
    state_->connections.erase(id_);
}

void HttpConnection::start() {
    read_request();
}

void HttpConnection::close() {
    if (closed_) return;
    closed_ = true;
    state_->connections.erase(id_);
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
}

void HttpConnection::read_request() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
    parser_->body_limit(state_->options.body_limit);
    buffer_.max_size(state_->options.header_limit + state_->options.body_limit + 4096);
    // One deadline for the whole request (and the idle wait before it): trickling bytes
    // (slowloris) does not extend it.
    stream_.expires_after(state_->options.timeout);
    // Header first: Beast 1.74 skips the Content-Length vs body_limit check when header and body
    // are parsed in one eager pass; reading the header alone enforces it.
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpConnection::on_header(beast::error_code ec) {
    if (closed_) return;
    if (ec || parser_->is_done()) return on_read(ec);
    auto expect = parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
        // curl asks before sending bodies over 1 KiB; answer instead of making it wait.
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        boost::asio::async_write(stream_, boost::asio::buffer(kContinue.data(), kContinue.size()),
                                 [self = shared_from_this()](beast::error_code wec, std::size_t) {
                                     if (wec) return self->on_read(wec);
                                     self->read_body();
                                 });
        return;
    }
    read_body();
}

void HttpConnection::read_body() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void HttpConnection::on_read(beast::error_code ec) {
    if (closed_) return;
    if (ec == http::error::body_limit) {
        send_text(http::status::payload_too_large, "request body too large\n", 11, false);
        return;
    }
    if (ec == http::error::header_limit) {
        send_text(http::status::request_header_fields_too_large, "request headers too large\n", 11,
                  false);
        return;
    }
    if (ec && ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
        send_text(http::status::bad_request, "malformed HTTP request\n", 11, false);
        return;
    }
    if (ec) {  // closed by the peer, timed out, or reset
        if (ec == beast::error::timeout) spdlog::debug("rpc: dropping slow or idle client");
        close();
        return;
    }
    auto request = parser_->release();
    handle(request);
}

void HttpConnection::handle(Request& request) {
    const auto& options = state_->options;
    unsigned version = request.version();
    bool keep_alive = request.keep_alive();

    auto host = request.find(http::field::host);
    if (host == request.end() || !host_allowed(host->value(), options.extra_allowed_hosts)) {
        send_text(http::status::forbidden, "Host not allowed\n", version, false);
        return;
    }
    auto origin = request.find(http::field::origin);
    if (!origin_allowed(origin != request.end() ? origin->value() : std::string_view{},
                        origin != request.end(), options.allowed_origins)) {
        send_text(http::status::forbidden, "cross-origin requests are not allowed\n", version,
                  false);
        return;
    }

    auto target = request.target();
    auto path = target.substr(0, target.find('?'));
    if (path == "/" && request.method() == http::verb::get) {
        send_text(http::status::ok, "btd: JSON-RPC 2.0 at POST /rpc\n", version, keep_alive);
        return;
    }
    if (path != kRpcPath) {
        send_text(http::status::not_found, "not found; the RPC endpoint is POST /rpc\n", version,
                  keep_alive);
        return;
    }
    if (request.method() != http::verb::post) {
        Response response{http::status::method_not_allowed, version};
        response.set(http::field::allow, "POST");
        response.set(http::field::content_type, "text/plain");
        response.body() = "use POST\n";
        response.keep_alive(keep_alive);
        send(std::move(response));
        return;
    }
    if (options.auth_secret) {
        auto auth = request.find(http::field::authorization);
        if (auth == request.end() || !bearer_token_matches(auth->value(), *options.auth_secret)) {
            Response response{http::status::unauthorized, version};
            response.set(http::field::www_authenticate, "Bearer realm=\"btd\"");
            response.set(http::field::content_type, "text/plain");
            response.body() =
                "authentication required: send 'Authorization: Bearer <secret>' (the secret is "
                "in rpc.secret in the daemon's state dir)\n";
            response.keep_alive(keep_alive);
            send(std::move(response));
            return;
        }
    }
    auto content_type = request.find(http::field::content_type);
    if (content_type == request.end() || !is_json_content_type(content_type->value())) {
        send_text(http::status::unsupported_media_type, "Content-Type must be application/json\n",
                  version, keep_alive);
        return;
    }
    dispatch(std::move(request.body()), version, keep_alive);
}

void HttpConnection::dispatch(std::string body, unsigned version, bool keep_alive) {
    // No read is pending while a method runs; an async method (URL fetch) bounds its own time.
    stream_.expires_never();
    state_->dispatcher->handle(
        body, [self = shared_from_this(), version, keep_alive](std::optional<std::string> reply) {
            if (self->closed_) return;
            if (!reply) {
                Response response{http::status::no_content, version};
                response.keep_alive(keep_alive);
                self->send(std::move(response));
                return;
            }
            Response response{http::status::ok, version};
            response.set(http::field::content_type, "application/json");
            response.body() = std::move(*reply);
            response.keep_alive(keep_alive);
            self->send(std::move(response));
        });
}

void HttpConnection::send_text(http::status status, std::string text, unsigned version,
                               bool keep_alive) {
    Response response{status, version};
    response.set(http::field::content_type, "text/plain");
    response.body() = std::move(text);
    response.keep_alive(keep_alive);
    send(std::move(response));
}

void HttpConnection::send(Response response) {
    if (closed_) return;
    response.set(http::field::server, kServerName);
    response.set(http::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.prepare_payload();
    bool keep_alive = response.keep_alive();
    response_ = std::move(response);
    stream_.expires_after(state_->options.timeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                          self->on_written(ec, keep_alive);
                      });
}

void HttpConnection::on_written(beast::error_code ec, bool keep_alive) {
    response_.reset();
    if (ec || !keep_alive) {
        close();
        return;
    }
    read_request();
}

}  // namespace btd::rpc
