#include "cli-remote/rpc_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

#include "rpc/transport/errors.hpp"
#include "rpc/transport/json_parse.hpp"
#include "rpc/transport/url.hpp"

namespace btd::btctl {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

constexpr std::size_t kMaxResponseBytes = 256 * 1024 * 1024;

std::string lower_first(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    return s;
}

int exit_code_for(int rpc_code) {
    switch (rpc_code) {
        case rpc::errc::unknown_torrent:
        case rpc::errc::invalid_params:
            return exit_code::usage;
        default:
            return exit_code::failure;
    }
}

}  // namespace

RpcCallError::RpcCallError(int code, const std::string& message, nlohmann::json data)
    : CliError(exit_code_for(code), message), code_(code), data_(std::move(data)) {}

RpcClient::RpcClient(std::string url, std::optional<std::string> token,
                     std::chrono::seconds timeout)
    : url_(std::move(url)), token_(std::move(token)), timeout_(timeout) {
    auto parsed = rpc::parse_http_url(url_);
    if (!parsed || parsed->scheme != "http")
        throw usage_error("--rpc must be an http:// URL such as http://127.0.0.1:9092/rpc, not '" +
                          url_ + "'");
}

nlohmann::json RpcClient::call(const std::string& method, const nlohmann::json& params) {
    auto url = *rpc::parse_http_url(url_);
    int id = next_id_++;
    nlohmann::json request = {
        {"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", id}};

    http::request<http::string_body> req{http::verb::post, url.target, 11};
    req.set(http::field::host, url.host_header());
    req.set(http::field::user_agent, "btctl");
    req.set(http::field::content_type, "application/json");
    if (token_) req.set(http::field::authorization, "Bearer " + *token_);
    req.body() = rpc::dump_json(request);
    req.prepare_payload();

    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    beast::error_code failure;

    // Async operations so every step is bounded by the stream's deadline.
    auto fail = [&](beast::error_code ec) { failure = ec; };
    resolver.async_resolve(
        url.host, std::to_string(url.port),
        [&](beast::error_code ec, tcp::resolver::results_type r) {
            if (ec) return fail(ec);
            stream.expires_after(timeout_);
            stream.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
                if (ec2) return fail(ec2);
                stream.expires_after(timeout_);
                http::async_write(stream, req, [&](beast::error_code ec3, std::size_t) {
                    if (ec3) return fail(ec3);
                    stream.expires_after(timeout_);
                    http::async_read(stream, buffer, parser,
                                     [&](beast::error_code ec4, std::size_t) {
                                         if (ec4) fail(ec4);
                                     });
                });
            });
        });
    io.run_for(timeout_ * 3);  // resolve has no deadline of its own
    if (!io.stopped()) failure = beast::error::timeout;

    if (failure) {
        std::string why =
            failure == beast::error::timeout ? "timed out" : lower_first(failure.message());
        throw CliError(exit_code::unreachable, "cannot reach btd at " + url_ + ": " + why);
    }

    const auto& res = parser.get();
    auto status = res.result();
    if (status == http::status::unauthorized)
        throw CliError(exit_code::auth,
                       "btd refused the RPC secret (HTTP 401): use --token, or --state-dir for the "
                       "daemon's state dir that holds rpc.secret");
    if (status == http::status::forbidden)
        throw CliError(exit_code::auth, "btd refused the request (HTTP 403): " + res.body());
    if (status != http::status::ok)
        throw CliError(exit_code::failure,
                       "btd answered HTTP " + std::to_string(res.result_int()) + ": " + res.body());

    auto reply = rpc::parse_json_limited(res.body(), 128);
    if (!reply || !reply->is_object())
        throw CliError(exit_code::failure, "btd sent a reply that is not JSON-RPC");
    if (auto err = reply->find("error"); err != reply->end() && err->is_object()) {
        int code = err->value("code", rpc::errc::internal_error);
        std::string message = err->value("message", std::string("unknown error"));
        throw RpcCallError(code, message, err->value("data", nlohmann::json()));
    }
    if (!reply->contains("result"))
        throw CliError(exit_code::failure, "btd sent a reply without a result");
    return (*reply)["result"];
}

}  // namespace btd::btctl
