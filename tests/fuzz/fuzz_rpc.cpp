// libFuzzer target: a JSON-RPC request body as the HTTP server hands it to the dispatcher
// (rpc/dispatcher, rpc/json_parse), dispatched to the real method handlers bound to a real
// Session (rpc/session_methods, as tests/unit/rpc_methods/rpc_harness.hpp builds it).
//
// The raw body goes unchanged through the dispatcher that the fuzzer sees: parsing, depth
// limit, batches, notifications, request validation. Each call it accepts is passed on to the
// real handler with its params, except what would reach outside this process: torrent.add's
// "path" and "uri" (files and URLs), every "download_dir" and session.set's "listen_port" are
// dropped, torrent.add is always paused and torrent.resume is not forwarded (a fuzzed torrent's
// announce URL could name any host). Jobs added by one input are removed before the next.
#include "fuzz_session.hpp"  // first: it includes <utility> before Asio

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/settings.hpp"
#include "rpc/methods/session_methods.hpp"
#include "rpc/transport/dispatcher.hpp"

using nlohmann::json;
using namespace btd;

namespace {

struct Engine : fuzz::FuzzSession {
    rpc::Dispatcher inner;  // the real handlers
    rpc::Dispatcher outer;  // what the fuzzer talks to

    Engine() : FuzzSession("btd-fuzz-rpc") {
        rpc::SessionMethodsOptions options;
        options.settings = {daemon::rpc_settings, daemon::apply_rpc_settings};
        rpc::register_session_methods(inner, *session, io, options);
        for (const char* name :
             {"torrent.add", "torrent.get", "torrent.list", "torrent.pause", "torrent.remove",
              "torrent.set", "torrent.verify", "session.get", "session.set", "session.stats",
              "daemon.version", "daemon.shutdown"})
            forward(name);
        outer.add("torrent.resume", [](const json&) -> json {
            throw rpc::RpcError(rpc::errc::not_supported, "not forwarded by the fuzzer");
        });
    }

    void forward(std::string name) {
        outer.add_async(name, [this, name](const json& params, rpc::Dispatcher::Completion done) {
            json request = {
                {"jsonrpc", "2.0"}, {"method", name}, {"params", confine(name, params)}, {"id", 1}};
            inner.handle(rpc::dump_json(request), [done](std::optional<std::string> reply) {
                if (!reply) std::abort();  // a request with an id always gets a reply
                auto r = json::parse(*reply);
                if (r.contains("error"))
                    done(rpc::RpcError(r["error"]["code"].get<int>(),
                                       r["error"]["message"].get<std::string>()));
                else
                    done(r["result"]);
            });
        });
    }

    static json confine(const std::string& method, json params) {
        if (!params.is_object()) return params;
        params.erase("download_dir");
        if (method == "torrent.add") {
            params.erase("path");
            params.erase("uri");
            params["paused"] = true;
        }
        if (method == "session.set") params.erase("listen_port");
        return params;
    }
};

Engine& engine() {
    static Engine* e = new Engine();  // never destroyed: libFuzzer exits from inside the loop
    return *e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& e = engine();
    std::string_view body(reinterpret_cast<const char*>(data), size);
    bool replied = false;
    e.outer.handle(body, [&](std::optional<std::string> reply) {
        replied = true;
        if (reply && !json::accept(*reply)) std::abort();  // replies are always valid JSON
    });
    e.run_until([&replied] { return replied; });
    if (!replied) std::abort();  // every body gets an answer (or an empty one) in bounded time
    e.remove_all_jobs();
    return 0;
}
