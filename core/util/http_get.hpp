#pragma once
// The engine's one bounded HTTP(S) GET client (Beast), shared by tracker requests and by the RPC
// server's torrent download. One connection per request; redirects (http/https only) followed up
// to max_redirects; body capped at max_bytes; the whole exchange, redirects included, bounded by
// one deadline. TLS verifies the peer against the context's CA store and the URL's host name,
// with SNI set. Never throws into the io_context; the callback runs exactly once, never inline.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/url.hpp"

#include "core/util/bind_target.hpp"

namespace btd {

struct HttpGetOptions {
    std::size_t max_bytes = 2 * 1024 * 1024;
    std::chrono::milliseconds timeout = std::chrono::seconds(20);  // whole request
    int max_redirects = 3;
    // POST this body (Content-Type: application/json) instead of a GET, e.g. a webhook. A
    // redirect is then not followed (it would turn into a GET).
    std::optional<std::string> post_json;
    BindTarget bind;  // connect only from this address or interface; "" = any
};

struct HttpResult {
    std::string error;  // transport problem; empty if a response arrived (any status)
    bool certificate_rejected = false;  // the TLS server's certificate could not be verified
    unsigned status = 0;
    std::string body;
};

// Cancelling delivers "cancelled" (once); after the callback ran it does nothing.
class HttpGetHandle {
  public:
    virtual ~HttpGetHandle() = default;
    virtual void cancel() = 0;
};

std::shared_ptr<HttpGetHandle> http_get(boost::asio::io_context& io, boost::asio::ssl::context& tls,
                                        const std::string& url, HttpGetOptions options,
                                        std::function<void(HttpResult)> done);

}  // namespace btd
