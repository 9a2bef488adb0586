#pragma once
// Write tokens for get_peers / announce_peer (BEP 5): a token is a hash of the asker's IP and a
// secret that rotates every 5 minutes; the current and the previous secret are accepted, so a
// token stays good for 5 to 10 minutes. Pure: time is passed in, randomness is injected. Network
// thread only.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "core/dht/node_id.hpp"

namespace btd::dht {

class TokenStore {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;
    using RandomSource = std::function<void(std::span<std::uint8_t>)>;
    static constexpr std::chrono::minutes kRotation{5};
    static constexpr std::size_t kTokenSize = 8;

    explicit TokenStore(TimePoint now, RandomSource random = random_bytes);

    std::string token_for(const Address& ip, TimePoint now);
    bool valid(std::string_view token, const Address& ip, TimePoint now);

  private:
    using Secret = std::array<std::uint8_t, 16>;
    void rotate_if_due(TimePoint now);
    std::string make(const Address& ip, const Secret& secret) const;

    RandomSource random_;
    Secret current_{};
    Secret previous_{};
    TimePoint rotated_at_;
};

}  // namespace btd::dht
