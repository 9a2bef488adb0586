#include "core/tracker/tracker_context.hpp"

#include <array>

namespace btd::tracker {
namespace {

std::mt19937 seeded_rng() {
    std::array<std::uint8_t, 4> seed{};
    random_bytes(seed);
    return std::mt19937((std::uint32_t{seed[0]} << 24) | (std::uint32_t{seed[1]} << 16) |
                        (std::uint32_t{seed[2]} << 8) | seed[3]);
}

}  // namespace

TrackerContext::State::State(boost::asio::io_context& io_context)
    : io(io_context), tls(boost::asio::ssl::context::tls_client), rng(seeded_rng()) {
    // Certificates are checked against the system CA store; hosts are checked per connection.
    boost::system::error_code ec;
    tls.set_default_verify_paths(ec);
    tls.set_verify_mode(boost::asio::ssl::verify_peer);
}

std::uint32_t TrackerContext::State::random_u32() {
    std::array<std::uint8_t, 4> b{};
    random_bytes(b);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           b[3];
}

TrackerContext::TrackerContext(boost::asio::io_context& io) : state_(std::make_unique<State>(io)) {}
TrackerContext::~TrackerContext() = default;
boost::asio::io_context& TrackerContext::io() {
    return state_->io;
}
boost::asio::ssl::context& TrackerContext::tls() {
    return state_->tls;
}
TrackerContext::State& TrackerContext::state() {
    return *state_;
}

}  // namespace btd::tracker
