#include <doctest/doctest.h>

#include "core/dht/token_store.hpp"
#include "dht_test_support.hpp"

using namespace btd::dht;
using namespace std::chrono_literals;

namespace {

// Each call fills the secret with the next counter value: deterministic, never repeating.
TokenStore::RandomSource counter_source() {
    auto counter = std::make_shared<std::uint8_t>(0);
    return [counter](std::span<std::uint8_t> out) {
        ++*counter;
        for (auto& b : out) b = *counter;
    };
}

const Address kAlice = boost::asio::ip::make_address("203.0.113.1");
const Address kBob = boost::asio::ip::make_address("2001:db8::2");

}  // namespace

TEST_CASE("a token is tied to the asker's address") {
    TokenStore::TimePoint t0{};
    TokenStore store(t0, counter_source());
    std::string token = store.token_for(kAlice, t0);
    CHECK(token.size() == TokenStore::kTokenSize);
    CHECK(store.token_for(kAlice, t0 + 1min) == token);  // stable within a period
    CHECK(store.valid(token, kAlice, t0 + 1min));
    CHECK_FALSE(store.valid(token, kBob, t0 + 1min));
    CHECK(store.valid(store.token_for(kBob, t0), kBob, t0));
    CHECK_FALSE(store.valid(token.substr(1), kAlice, t0));
    CHECK_FALSE(store.valid("", kAlice, t0));
}

TEST_CASE("tokens stay valid through one rotation and expire with the next") {
    TokenStore::TimePoint t0{};
    TokenStore store(t0, counter_source());
    std::string old_token = store.token_for(kAlice, t0);
    CHECK(store.valid(old_token, kAlice, t0 + 4min));
    // 5 minutes: the secret rotates, the previous one is still accepted.
    std::string new_token = store.token_for(kAlice, t0 + 5min);
    CHECK(new_token != old_token);
    CHECK(store.valid(old_token, kAlice, t0 + 6min));
    CHECK(store.valid(new_token, kAlice, t0 + 6min));
    // 10 minutes: a second rotation retires the first secret.
    CHECK_FALSE(store.valid(old_token, kAlice, t0 + 10min));
    CHECK(store.valid(new_token, kAlice, t0 + 10min));
}

TEST_CASE("after a long silence neither old secret is accepted") {
    TokenStore::TimePoint t0{};
    TokenStore store(t0, counter_source());
    std::string token = store.token_for(kAlice, t0 + 4min);
    CHECK_FALSE(store.valid(token, kAlice, t0 + 11min));
}
