#include "rpc/transport/rpc_metrics.hpp"

#include <spdlog/fmt/fmt.h>

#include <limits>

namespace btd::rpc::transport {

void RpcMetrics::record(std::string_view method, std::chrono::steady_clock::duration took,
                        bool ok) {
    auto it = calls_.find(method);
    if (it == calls_.end()) it = calls_.emplace(std::string(method), Counts{}).first;
    ++(ok ? it->second.ok : it->second.error);
    double seconds = std::chrono::duration<double>(took).count();
    ++count_;
    sum_seconds_ += seconds;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            ++bucket_counts_[i];
            break;
        }
    }
}

void RpcMetrics::write(PromText& out) const {
    out.family("btd_rpc_requests_total", "counter", "JSON-RPC calls by method and outcome.");
    for (const auto& [method, counts] : calls_) {
        out.sample("btd_rpc_requests_total", {{"method", method}, {"outcome", "ok"}},
                   static_cast<double>(counts.ok));
        out.sample("btd_rpc_requests_total", {{"method", method}, {"outcome", "error"}},
                   static_cast<double>(counts.error));
    }
    out.family("btd_rpc_request_duration_seconds", "histogram",
               "Time from a JSON-RPC call's start to its result.");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += bucket_counts_[i];
        out.sample("btd_rpc_request_duration_seconds_bucket",
                   {{"le", fmt::format("{}", kBuckets[i])}}, static_cast<double>(cumulative));
    }
    out.sample("btd_rpc_request_duration_seconds_bucket", {{"le", "+Inf"}},
               static_cast<double>(count_));
    out.sample("btd_rpc_request_duration_seconds_sum", sum_seconds_);
    out.sample("btd_rpc_request_duration_seconds_count", static_cast<double>(count_));
}

}  // namespace btd::rpc::transport
