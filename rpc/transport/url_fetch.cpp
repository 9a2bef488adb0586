#include "rpc/transport/url_fetch.hpp"

#include <boost/asio/post.hpp>

#include "core/util/http_get.hpp"

namespace btd::rpc {

void fetch_url(boost::asio::io_context& io, boost::asio::ssl::context& tls, const std::string& url,
               FetchOptions options, FetchCallback done) {
    if (!parse_http_url(url)) {
        boost::asio::post(
            io, [done = std::move(done), url] { done("not an http(s) URL: " + url, {}); });
        return;
    }
    HttpGetOptions get;
    get.max_bytes = options.max_bytes;
    get.timeout = options.timeout;
    get.max_redirects = options.max_redirects;
    http_get(io, tls, url, get, [done = std::move(done)](HttpResult result) {
        if (!result.error.empty()) return done(std::move(result.error), {});
        if (result.status != 200)
            return done("server answered HTTP " + std::to_string(result.status), {});
        done({}, std::move(result.body));
    });
}

std::shared_ptr<boost::asio::ssl::context> make_client_tls_context() {
    auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    ctx->set_default_verify_paths();
    ctx->set_verify_mode(boost::asio::ssl::verify_peer);
    return ctx;
}

}  // namespace btd::rpc
