// daemon.version, daemon.shutdown.
#include <boost/asio/post.hpp>

#include "core/util/hash.hpp"
#include "rpc/methods/session_methods.hpp"
#include "rpc/transport/params.hpp"

namespace btd::rpc {

using nlohmann::json;

inline constexpr int kRpcApiVersion = 1;

void register_daemon_methods(Dispatcher& d, boost::asio::io_context& io,
                             std::function<void()> shutdown) {
    d.add("daemon.version", [](const json& params) {
        require_object(params);
        return json{
            {"name", kClientName}, {"version", kClientVersion}, {"rpc_api", kRpcApiVersion}};
    });

    d.add("daemon.shutdown", [&io, shutdown](const json& params) {
        require_object(params);
        if (!shutdown)
            throw RpcError(errc::not_supported, "this daemon cannot be shut down by RPC");
        // Posted, so the reply is queued before the daemon starts tearing things down.
        boost::asio::post(io, shutdown);
        return json::object();
    });
}

}  // namespace btd::rpc
