#pragma once
// The parts of the RPC listener beyond JSON-RPC, wired for the daemon: named tokens
// (<state_dir>/tokens.json), browser sessions, `/events` fed by the engine's events, `/metrics`
// and the RPC call counters behind it. Subscribes to the session's events itself. Network thread
// only.
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/session/session.hpp"
#include "rpc/methods/session_event_feed.hpp"
#include "rpc/transport/dispatcher.hpp"
#include "rpc/transport/http_server.hpp"
#include "rpc/transport/rpc_metrics.hpp"

namespace btd::daemon {

class WebServices {
  public:
    // Loads the token list; throws std::runtime_error if it cannot be read (permissions).
    WebServices(boost::asio::io_context& io, Session& session,
                const std::filesystem::path& state_dir, std::optional<std::string> admin_secret,
                bool metrics_public);

    // Adds the token methods and the call observer to `dispatcher`, and the page, login,
    // /metrics and /events to `options`. Both must outlive this object's use by the server.
    void install(rpc::Dispatcher& dispatcher, rpc::RpcServerOptions& options);
    void stop();  // closes every /events client and unsubscribes

  private:
    const Session& session_;
    std::shared_ptr<rpc::transport::Access> access_;
    std::shared_ptr<rpc::transport::EventStream> events_;
    rpc::transport::StatsFeed stats_;
    EventSubscription subscription_;  // the engine's events to /events
    rpc::transport::RpcMetrics rpc_metrics_;
    bool metrics_public_;
};

}  // namespace btd::daemon
