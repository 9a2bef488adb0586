#include "core/dht/token_store.hpp"

namespace btd::dht {

TokenStore::TokenStore(TimePoint now, RandomSource random)
    : random_(std::move(random)), rotated_at_(now) {
    random_(current_);
    random_(previous_);
}

void TokenStore::rotate_if_due(TimePoint now) {
    if (now - rotated_at_ < kRotation) return;
    // After two or more periods of silence neither secret may survive.
    bool skipped_a_period = now - rotated_at_ >= 2 * kRotation;
    previous_ = current_;
    random_(current_);
    if (skipped_a_period) random_(previous_);
    rotated_at_ = now;
}

std::string TokenStore::make(const Address& ip, const Secret& secret) const {
    std::string input;
    if (ip.is_v4()) {
        auto b = ip.to_v4().to_bytes();
        input.assign(b.begin(), b.end());
    } else {
        auto b = ip.to_v6().to_bytes();
        input.assign(b.begin(), b.end());
    }
    input.append(secret.begin(), secret.end());
    return std::string(as_chars(sha1(std::string_view(input))).substr(0, kTokenSize));
}

std::string TokenStore::token_for(const Address& ip, TimePoint now) {
    rotate_if_due(now);
    return make(ip, current_);
}

bool TokenStore::valid(std::string_view token, const Address& ip, TimePoint now) {
    rotate_if_due(now);
    return token.size() == kTokenSize &&
           (token == make(ip, current_) || token == make(ip, previous_));
}

}  // namespace btd::dht
