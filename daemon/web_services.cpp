#include "daemon/web_services.hpp"

#include "rpc/methods/session_metrics.hpp"
#include "rpc/transport/token_methods.hpp"

namespace btd::daemon {

namespace transport = rpc::transport;

WebServices::WebServices(boost::asio::io_context& io, Session& session,
                         const std::filesystem::path& state_dir,
                         std::optional<std::string> admin_secret, bool metrics_public)
    : session_(session),
      access_(std::make_shared<transport::Access>(
          std::move(admin_secret),
          std::make_shared<transport::TokenStore>(state_dir / transport::kTokensFile))),
      events_(std::make_shared<transport::EventStream>(io)),
      metrics_public_(metrics_public) {
    events_->set_stats_source([this] { return stats_.next(); });
    subscription_ = session.add_event_listener([this](const SessionEvent& event) {
        transport::publish_session_event(*events_, stats_, session_, event);
    });
}

void WebServices::install(rpc::Dispatcher& dispatcher, rpc::RpcServerOptions& options) {
    transport::register_token_methods(dispatcher, *access_);
    dispatcher.set_observer([this](std::string_view method,
                                   std::chrono::steady_clock::duration took,
                                   bool ok) { rpc_metrics_.record(method, took, ok); });
    options.access = access_;
    options.events = events_;
    options.web.metrics_public = metrics_public_;
    options.web.metrics = [this] {
        return transport::session_metrics_text(session_, rpc_metrics_, events_.get());
    };
}

void WebServices::stop() {
    subscription_.reset();
    events_->stop();
}

}  // namespace btd::daemon
