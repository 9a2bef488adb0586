#pragma once
// Asynchronous, bounded download of a small file over http(s) (a .torrent for torrent.add).
// Runs on the given io_context; never throws into it; the callback runs exactly once.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace btd::rpc {

struct FetchOptions {
    std::size_t max_bytes = 10 * 1024 * 1024;
    std::chrono::milliseconds timeout = std::chrono::seconds(30);  // whole fetch incl. redirects
    int max_redirects = 5;
};

// error is empty on success (HTTP 200), else a message a user can act on.
using FetchCallback = std::function<void(std::string error, std::string body)>;

void fetch_url(boost::asio::io_context& io, boost::asio::ssl::context& tls, const std::string& url,
               FetchOptions options, FetchCallback done);

// A client TLS context that verifies peers against the system's CA store.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context();

}  // namespace btd::rpc
