// libFuzzer target: Transmission RPC request bodies (rpc/transmission) as /transmission/rpc hands
// them over after its HTTP checks, handled by the real TransmissionRpc bound to a real Session.
//
// An input is up to kMaxRequests bodies, one per line, handled in order (so that an add can be
// followed by a torrent-set or a torrent-get of what it added). A body that is a JSON object
// with an object "arguments" is confined to this process and its temporary dir before it is
// handled (re-serialised); any other body goes in unchanged and exercises the parse errors:
//   - torrent-add: "filename" (a path or a URL) is dropped and the job is always paused;
//   - every download dir and "location" must lie in the harness's dir (allowed_download_dirs
//     refuses the rest, as the daemon does with its own list);
//   - session-set: "peer-port" is dropped (it would bind a port);
//   - torrent-start, torrent-start-now, torrent-reannounce, port-test and blocklist-update are
//     renamed so they fail as unknown methods: a fuzzed torrent's trackers could name any host.
// Jobs added by one input are removed before the next.
#include "fuzz_session.hpp"  // first: it includes <utility> before Asio

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "daemon/settings.hpp"
#include "rpc/transmission/transmission_rpc.hpp"

using nlohmann::json;
using namespace btd;

namespace {

constexpr int kMaxRequests = 8;

struct Engine : fuzz::FuzzSession {
    std::unique_ptr<rpc::transmission::TransmissionRpc> rpc;

    Engine() : FuzzSession("btd-fuzz-transmission") {
        rpc::transmission::TransmissionOptions options;
        options.config_dir = dir.string();
        options.session_id = "fuzz";
        options.settings = {daemon::rpc_settings, daemon::apply_rpc_settings};
        options.allowed_download_dirs = {dir};
        rpc = std::make_unique<rpc::transmission::TransmissionRpc>(*session, io, options);
    }

    static std::string confine(std::string_view body) {
        json request = json::parse(body, nullptr, false);
        if (!request.is_object() || !request.contains("method") || !request["method"].is_string())
            return std::string(body);
        const auto method = request["method"].get<std::string>();
        for (const char* outward : {"torrent-start", "torrent-start-now", "torrent-reannounce",
                                    "port-test", "blocklist-update"})
            if (method == outward) request["method"] = "fuzz-not-forwarded";
        if (request.contains("arguments") && request["arguments"].is_object()) {
            auto& args = request["arguments"];
            if (method == "torrent-add") {
                args.erase("filename");
                args["paused"] = true;
            }
            if (method == "session-set") args.erase("peer-port");
        }
        return request.dump();
    }

    // Handles one body; every body gets exactly one reply, of valid JSON, in bounded time.
    void handle(std::string_view body) {
        int replies = 0;
        rpc->handle(confine(body), [&replies](std::string reply) {
            ++replies;
            if (!json::accept(reply)) std::abort();
        });
        run_until([&replies] { return replies > 0; });
        io.restart();
        io.poll();  // a second reply would show here
        if (replies != 1) std::abort();
    }
};

Engine& engine() {
    static Engine* e = new Engine();  // never destroyed: libFuzzer exits from inside the loop
    return *e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& e = engine();
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    for (int n = 0; n < kMaxRequests && !rest.empty(); ++n) {
        auto end = rest.find('\n');
        e.handle(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
    e.remove_all_jobs();
    return 0;
}
