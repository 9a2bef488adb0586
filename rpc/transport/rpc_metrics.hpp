#pragma once
// Counts of JSON-RPC calls by method and outcome, and a latency histogram, fed by the
// Dispatcher's observer and written to /metrics. Method names come from the dispatcher's table
// (unknown names count as "unknown"), so the label set is bounded. Network thread only.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "rpc/transport/prometheus.hpp"

namespace btd::rpc::transport {

class RpcMetrics {
  public:
    static constexpr std::array<double, 9> kBuckets = {0.0005, 0.001, 0.005, 0.01, 0.05,
                                                       0.1,    0.5,   1,     5};

    void record(std::string_view method, std::chrono::steady_clock::duration took, bool ok);
    void write(PromText& out) const;

  private:
    struct Counts {
        std::uint64_t ok = 0;
        std::uint64_t error = 0;
    };
    std::map<std::string, Counts, std::less<>> calls_;
    std::array<std::uint64_t, kBuckets.size()> bucket_counts_{};  // not cumulative
    std::uint64_t count_ = 0;
    double sum_seconds_ = 0;
};

}  // namespace btd::rpc::transport
