#pragma once
// One announce or scrape to one tracker URL, over HTTP(S) or UDP depending on the scheme.
// The handler runs exactly once, always posted to the io_context (never inline), with either a
// parsed response or an error text for the user. Nothing here throws into the io_context.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/tracker/tracker_context.hpp"
#include "core/tracker/tracker_types.hpp"

namespace btd::tracker {

// Handle on an in-flight request; cancel() makes the handler run soon with error "cancelled".
class PendingRequest {
  public:
    virtual ~PendingRequest() = default;
    virtual void cancel() = 0;
};

struct AnnounceOutcome {
    std::string error;  // empty on success; the tracker's "failure reason" text if it refused
    AnnounceResponse response;
    bool ok() const { return error.empty(); }
};

struct ScrapeOutcome {
    std::string error;
    ScrapeInfo info;
    bool ok() const { return error.empty(); }
};

// timeout bounds the whole exchange; without it HTTP uses settings.http_timeout and UDP its
// retransmission schedule (settings.udp_base_timeout, udp_max_retransmits).
std::shared_ptr<PendingRequest> send_announce(TrackerContext& ctx, const std::string& url,
                                              const AnnounceParams& params,
                                              std::optional<std::chrono::milliseconds> timeout,
                                              std::function<void(AnnounceOutcome)> handler);

std::shared_ptr<PendingRequest> send_scrape(TrackerContext& ctx, const std::string& announce_url,
                                            const Sha1Hash& info_hash,
                                            std::optional<std::chrono::milliseconds> timeout,
                                            std::function<void(ScrapeOutcome)> handler);

}  // namespace btd::tracker
