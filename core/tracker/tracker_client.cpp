#include "core/tracker/tracker_client.hpp"

#include <boost/asio/post.hpp>

#include "core/tracker/announce_url.hpp"
#include "core/tracker/http_client.hpp"
#include "core/tracker/response_parser.hpp"
#include "core/tracker/udp_client.hpp"
#include "core/tracker/udp_protocol.hpp"

namespace btd::tracker {
namespace {

// For requests that fail before any I/O: the handler is already posted, nothing to cancel.
class AlreadyDone : public PendingRequest {
  public:
    void cancel() override {}
};

template <class Outcome>
std::shared_ptr<PendingRequest> fail_soon(TrackerContext& ctx, std::string error,
                                          std::function<void(Outcome)> handler) {
    Outcome outcome;
    outcome.error = std::move(error);
    boost::asio::post(ctx.io(), [handler = std::move(handler), outcome = std::move(outcome)] {
        handler(outcome);
    });
    return std::make_shared<AlreadyDone>();
}

void parsed_into(AnnounceOutcome& o, AnnounceResponse r) {
    o.response = std::move(r);
}
void parsed_into(ScrapeOutcome& o, ScrapeInfo i) {
    o.info = i;
}

// Runs a parser over an HTTP result; a non-2xx status is an error unless the body explains it.
template <class Outcome, class Parse>
Outcome interpret_http(const HttpResult& result, Parse parse) {
    Outcome outcome;
    if (!result.error.empty()) {
        outcome.error = result.error;
        return outcome;
    }
    try {
        auto parsed = parse(result.body);
        if (result.status < 200 || result.status >= 300)
            outcome.error = "tracker answered HTTP " + std::to_string(result.status);
        else
            parsed_into(outcome, std::move(parsed));
    } catch (const TrackerFailure& e) {
        outcome.error = e.what();
    } catch (const TrackerError& e) {
        outcome.error = result.status >= 200 && result.status < 300
                            ? std::string(e.what())
                            : "tracker answered HTTP " + std::to_string(result.status);
    } catch (const std::exception& e) {
        outcome.error = std::string("unreadable tracker response: ") + e.what();
    }
    return outcome;
}

// Decodes a UDP tracker's answer (unless the exchange already failed) into an outcome.
template <class Outcome, class Decode>
Outcome interpret_udp(const std::string& error, Decode decode) {
    Outcome outcome;
    outcome.error = error;
    if (!error.empty()) return outcome;
    try {
        parsed_into(outcome, decode());
    } catch (const TrackerError& e) {
        outcome.error = e.what();
    }
    return outcome;
}

// The URL of a tracker we can talk to (http, https, udp), or why not.
std::optional<Url> tracker_url(std::string_view url, std::string& error) {
    std::string scheme = url_scheme(url);
    if (!scheme.empty() && scheme != "http" && scheme != "https" && scheme != "udp") {
        error = "unsupported tracker scheme '" + scheme + "'";
        return std::nullopt;
    }
    auto parsed = parse_url(url);
    if (!parsed) error = "invalid tracker URL";
    return parsed;
}

std::chrono::milliseconds http_timeout(TrackerContext& ctx,
                                       std::optional<std::chrono::milliseconds> timeout) {
    return timeout ? *timeout : ctx.state().settings.http_timeout;
}

}  // namespace

std::shared_ptr<PendingRequest> send_announce(TrackerContext& ctx, const std::string& url,
                                              const AnnounceParams& params,
                                              std::optional<std::chrono::milliseconds> timeout,
                                              std::function<void(AnnounceOutcome)> handler) {
    std::string error;
    auto parsed = tracker_url(url, error);
    if (!parsed) return fail_soon(ctx, error, std::move(handler));
    if (parsed->scheme != "udp") {
        return http_get(ctx, build_announce_url(url, params), http_timeout(ctx, timeout),
                        [handler = std::move(handler)](HttpResult result) {
                            handler(interpret_http<AnnounceOutcome>(result, [](std::string_view b) {
                                return parse_announce_response(b);
                            }));
                        });
    }
    UdpExchange exchange;
    exchange.build = [params](std::uint64_t connection_id, std::uint32_t transaction_id) {
        return udp::encode_announce(connection_id, transaction_id, params);
    };
    exchange.done = [handler = std::move(handler)](const std::string& error,
                                                   std::string_view packet,
                                                   std::uint32_t transaction_id, bool ipv6) {
        handler(interpret_udp<AnnounceOutcome>(
            error, [&] { return udp::decode_announce(packet, transaction_id, ipv6); }));
    };
    return udp_exchange(ctx, *parsed, timeout, std::move(exchange));
}

std::shared_ptr<PendingRequest> send_scrape(TrackerContext& ctx, const std::string& announce_url,
                                            const Sha1Hash& info_hash,
                                            std::optional<std::chrono::milliseconds> timeout,
                                            std::function<void(ScrapeOutcome)> handler) {
    std::string error;
    auto parsed = tracker_url(announce_url, error);
    if (!parsed) return fail_soon(ctx, error, std::move(handler));
    if (parsed->scheme != "udp") {
        auto scrape_url = scrape_url_from_announce(announce_url);
        if (!scrape_url)
            return fail_soon(ctx, "tracker does not support scrape", std::move(handler));
        return http_get(
            ctx, build_scrape_url(*scrape_url, info_hash), http_timeout(ctx, timeout),
            [handler = std::move(handler), info_hash](HttpResult result) {
                handler(interpret_http<ScrapeOutcome>(result, [&info_hash](std::string_view b) {
                    return parse_scrape_response(b, info_hash);
                }));
            });
    }
    UdpExchange exchange;
    exchange.build = [info_hash](std::uint64_t connection_id, std::uint32_t transaction_id) {
        return udp::encode_scrape(connection_id, transaction_id, std::span(&info_hash, 1));
    };
    exchange.done = [handler = std::move(handler)](const std::string& error,
                                                   std::string_view packet,
                                                   std::uint32_t transaction_id, bool) {
        handler(interpret_udp<ScrapeOutcome>(
            error, [&] { return udp::decode_scrape(packet, transaction_id, 1).front(); }));
    };
    return udp_exchange(ctx, *parsed, timeout, std::move(exchange));
}

}  // namespace btd::tracker
