#include "rpc/transport/http_connection.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <utility>

#include "rpc/transport/http_server_state.hpp"
#include "rpc/transport/request_checks.hpp"

namespace btd::rpc {
namespace {

namespace beast = boost::beast;
constexpr std::string_view kServerName = "btd";
constexpr std::string_view kRpcPath = "/rpc";
constexpr std::string_view kEventsPath = "/events";

// The id after which a reconnecting SSE client wants events: the Last-Event-ID header (set by
// browsers' EventSource), else a `last_event_id=N` query parameter (for curl and btctl).
std::optional<std::uint64_t> last_event_id(const HttpConnection::Request& request) {
    std::string_view text;
    if (auto it = request.find("Last-Event-ID"); it != request.end()) {
        text = it->value();
    } else {
        std::string_view target = request.target();
        constexpr std::string_view kParam = "last_event_id=";
        auto at = target.find(kParam);
        if (at == std::string_view::npos) return std::nullopt;
        text = target.substr(at + kParam.size());
        text = text.substr(0, text.find('&'));
    }
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return id;
}

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
    const auto& options = state_->options;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options.header_limit));
    // The announced length is checked against the full limit when the header ends; whether any
    // body is read at all is decided on the headers (answer_early). Until then the buffer holds
    // little more than the headers.
    parser_->body_limit(options.body_limit);
    buffer_.max_size(
        std::max(buffer_.size(), options.header_limit + options.unauthenticated_body_limit + 4096));
    // One deadline for the headers (and the idle wait before them): trickling bytes
    // (slowloris) does not extend it, and half-sent requests give up their slot soon.
    stream_.expires_after(std::min(options.header_timeout, options.timeout));
    // Header first: Beast 1.74 skips the Content-Length vs body_limit check when header and body
    // are parsed in one eager pass; reading the header alone enforces it. It also lets every
    // check run before a byte of an unauthenticated body is buffered.
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpConnection::on_header(beast::error_code ec) {
    if (closed_) return;
    if (ec) return on_read(ec);
    if (auto answer = answer_from_headers(parser_->get())) return answer_early(std::move(*answer));
    // Authorised: the body may be read, within the whole-request deadline.
    const auto& options = state_->options;
    buffer_.max_size(std::max(buffer_.size(), options.header_limit + options.body_limit + 4096));
    stream_.expires_after(options.timeout);
    if (parser_->is_done()) return on_read(ec);
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
        drain_on_close_ = true;  // the body was not read
        send_text(http::status::payload_too_large, "request body too large\n", 11, false);
        return;
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
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
    if (early_answer_) {
        auto answer = std::move(*early_answer_);
        early_answer_.reset();
        send(std::move(answer));
        return;
    }
    auto request = parser_->release();
    if (std::exchange(events_request_, false)) return hand_over_to_events(request);
    if (auto route = std::exchange(route_, nullptr)) return serve_route(*route, request);
    dispatch(std::move(request.body()), request.version(), request.keep_alive());
}

namespace {

HttpConnection::Response text_response(http::status status, std::string text, unsigned version,
                                       bool keep_alive) {
    HttpConnection::Response response{status, version};
    response.set(http::field::content_type, "text/plain");
    response.body() = std::move(text);
    response.keep_alive(keep_alive);
    return response;
}

}  // namespace

namespace {

// Says which setting admits the name: users reaching btd from the LAN hit this first.
template <class Field>
std::string host_refusal(Field host, Field end) {
    std::string name = host == end ? std::string() : std::string(host->value());
    auto colon = name.rfind(':');
    if (colon != std::string::npos && name.find(']') == std::string::npos &&
        name.find(':') == colon)
        name.erase(colon);  // host:port -> host
    if (name.empty()) return "Host not allowed: the request has no Host header\n";
    for (char& c : name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return "Host not allowed: '" + name +
           "' is not localhost; add it to rpc_allowed_hosts in btd.conf (or "
           "--rpc-allowed-hosts " +
           name + ") to reach btd by that name\n";
}

}  // namespace

// Every answer that needs no body: refusals (Host, Origin, token, method, media type) and the
// plain GET pages. nullopt: an authorised JSON-RPC request, or one a route accepted on its
// headers; the body is read next.
std::optional<HttpConnection::Response> HttpConnection::answer_from_headers(
    const Request& request) {
    const auto& options = state_->options;
    unsigned version = request.version();
    bool keep_alive = request.keep_alive();

    auto host = request.find(http::field::host);
    if (host == request.end() || !host_allowed(host->value(), options.extra_allowed_hosts))
        return text_response(http::status::forbidden, host_refusal(host, request.end()), version,
                             false);
    auto origin = request.find(http::field::origin);
    auto origin_value = origin != request.end() ? origin->value() : std::string_view{};
    if (!origin_allowed(origin_value, origin != request.end(), options.allowed_origins) &&
        !transport::same_origin(origin_value, host->value()))
        return text_response(http::status::forbidden, "cross-origin requests are not allowed\n",
                             version, false);

    auto target = request.target();
    auto path = target.substr(0, target.find('?'));
    route_ = nullptr;
    if (auto route = options.routes.find(path); route != options.routes.end()) {
        if (auto refusal = route->second->check_headers(request)) return refusal;
        authenticated_ = true;   // the route checked the credentials
        route_ = route->second;  // and answers once the body is read
        return std::nullopt;
    }
    if (auto web = transport::answer_web_request(request, *state_->access, options.web)) return web;
    if (path == kEventsPath && options.events) return accept_events(request);
    if (path == "/" && request.method() == http::verb::get)
        return text_response(http::status::ok, "btd: JSON-RPC 2.0 at POST /rpc\n", version,
                             keep_alive);
    if (path != kRpcPath)
        return text_response(http::status::not_found, "not found; the RPC endpoint is POST /rpc\n",
                             version, keep_alive);
    if (request.method() != http::verb::post) {
        auto response =
            text_response(http::status::method_not_allowed, "use POST\n", version, keep_alive);
        response.set(http::field::allow, "POST");
        return response;
    }
    auto checked = transport::authorize(request, *state_->access, true);
    if (auto* refused = std::get_if<Response>(&checked)) return std::move(*refused);
    scope_ = std::get<transport::Caller>(checked).scope;
    authenticated_ = true;
    auto content_type = request.find(http::field::content_type);
    if (content_type == request.end() || !is_json_content_type(content_type->value()))
        return text_response(http::status::unsupported_media_type,
                             "Content-Type must be application/json\n", version, keep_alive);
    return std::nullopt;
}

// `GET /events` by an authorised caller: the connection is handed to the EventStream once the
// (empty) body is read.
std::optional<HttpConnection::Response> HttpConnection::accept_events(const Request& request) {
    if (request.method() != http::verb::get) {
        auto response = text_response(http::status::method_not_allowed, "use GET\n",
                                      request.version(), request.keep_alive());
        response.set(http::field::allow, "GET");
        return response;
    }
    auto checked = transport::authorize(request, *state_->access, false);
    if (auto* refused = std::get_if<Response>(&checked)) return std::move(*refused);
    authenticated_ = true;
    events_request_ = true;
    return std::nullopt;
}

void HttpConnection::hand_over_to_events(const Request& request) {
    closed_ = true;  // the socket now belongs to the stream; this object just goes away
    state_->connections.erase(id_);
    stream_.expires_never();
    state_->options.events->attach(stream_.release_socket(), last_event_id(request));
}

// A small announced body is read (bounded by unauthenticated_body_limit) so a client that sent
// it along with the headers reads the answer and may keep the connection. A larger or chunked
// body, or one the client waits to send (Expect: 100-continue), is never read: answer, close.
void HttpConnection::answer_early(Response response) {
    if (parser_->is_done()) return send(std::move(response));
    auto length = parser_->content_length();
    bool waits = beast::iequals(parser_->get()[http::field::expect], "100-continue");
    if (length && *length <= state_->options.unauthenticated_body_limit && !waits) {
        early_answer_ = std::move(response);
        read_body();
        return;
    }
    response.keep_alive(false);
    drain_on_close_ = true;
    send(std::move(response));
}

// Closing with unread bytes makes the kernel send a reset, which can destroy the answer before
// the client reads it: stop sending, then discard what arrives (bounded in bytes and time, in a
// fixed buffer) before closing.
void HttpConnection::drain_then_close() {
    constexpr auto kDrainTime = std::chrono::seconds(2);
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTime);
    drain_some();
}

void HttpConnection::drain_some() {
    constexpr std::size_t kMaxDrainBytes = 1024 * 1024;
    stream_.async_read_some(boost::asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                self->drained_ += n;
                                if (ec || self->drained_ > kMaxDrainBytes) return self->close();
                                self->drain_some();
                            });
}

void HttpConnection::serve_route(HttpRoute& route, Request& request) {
    stream_.expires_never();  // as in dispatch(): the route bounds its own time
    route.serve(std::move(request), [self = shared_from_this()](Response response) {
        if (!self->closed_) self->send(std::move(response));
    });
}

void HttpConnection::dispatch(std::string body, unsigned version, bool keep_alive) {
    // No read is pending while a method runs; an async method (URL fetch) bounds its own time.
    stream_.expires_never();
    state_->dispatcher->handle(
        body,
        [self = shared_from_this(), version, keep_alive](std::optional<std::string> reply) {
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
        },
        transport::method_filter(scope_));
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
    if (!ec && !keep_alive && drain_on_close_) return drain_then_close();
    if (ec || !keep_alive) {
        close();
        return;
    }
    read_request();
}

}  // namespace btd::rpc
