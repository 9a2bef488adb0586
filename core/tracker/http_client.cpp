#include "core/tracker/http_client.hpp"

#include "core/tracker/tracker_context.hpp"

namespace btd::tracker {
namespace {

class PendingHttpGet : public PendingRequest {
  public:
    explicit PendingHttpGet(std::shared_ptr<HttpGetHandle> get) : get_(std::move(get)) {}
    void cancel() override { get_->cancel(); }

  private:
    std::shared_ptr<HttpGetHandle> get_;
};

}  // namespace

std::shared_ptr<PendingRequest> http_get(TrackerContext& ctx, const std::string& url,
                                         std::chrono::milliseconds timeout,
                                         std::function<void(HttpResult)> handler) {
    auto& state = ctx.state();
    HttpGetOptions options;
    options.max_bytes = state.settings.max_response_bytes;
    options.timeout = timeout;
    options.max_redirects = state.settings.max_redirects;
    options.bind = state.settings.bind;
    return std::make_shared<PendingHttpGet>(
        btd::http_get(state.io, state.tls, url, options, std::move(handler)));
}

}  // namespace btd::tracker
