#pragma once
// JSON-RPC 2.0 over any transport: a table of methods, request validation, batches and
// notifications. Knows nothing of HTTP. Runs on one thread (the io_context's); not thread-safe.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "rpc/transport/errors.hpp"
#include "rpc/transport/json_parse.hpp"

namespace btd::rpc {

// A result already serialised to JSON text by the method (a large list written straight into
// its string instead of built as a tree). The method must make it valid JSON.
struct RawJson {
    std::string text;
};

// What a method produced: a result value, one already serialised, or an error.
using Outcome = std::variant<nlohmann::json, RpcError, RawJson>;

struct DispatcherLimits {
    std::size_t max_depth = kDefaultMaxJsonDepth;
    std::size_t max_batch = 1000;  // requests in one batch
};

class Dispatcher {
  public:
    // A synchronous method: returns the result or throws RpcError. `params` is the request's
    // params, or an empty object when absent. nlohmann::json exceptions (wrong type, missing
    // key) become -32602, anything else -32603.
    using Handler = std::function<nlohmann::json(const nlohmann::json& params)>;
    // An asynchronous method: must call `done` exactly once, possibly later on the same thread.
    using Completion = std::function<void(Outcome)>;
    using AsyncHandler = std::function<void(const nlohmann::json& params, Completion done)>;
    // Gets the reply body, or nullopt when nothing must be sent (only notifications).
    using ReplyCallback = std::function<void(std::optional<std::string> reply)>;

    // Decides per call whether the caller may use a method (e.g. a read-only token): nullopt
    // allows it, an error refuses that call alone (a batch's other calls still run).
    using MethodFilter = std::function<std::optional<RpcError>(std::string_view method)>;
    // Told of every finished call: the method's name ("unknown" for one not in the table), the
    // time to its result, and whether it succeeded (for metrics).
    using Observer =
        std::function<void(std::string_view method, std::chrono::steady_clock::duration, bool ok)>;

    explicit Dispatcher(DispatcherLimits limits = {}) : limits_(limits) {}

    void add(std::string name, Handler handler);
    void add_async(std::string name, AsyncHandler handler);
    bool has(std::string_view name) const;

    // Handles one request body (a single request or a batch). `reply` may run before this returns
    // (all-synchronous methods) or later (async methods). The dispatcher must outlive it.
    void handle(std::string_view body, ReplyCallback reply, MethodFilter filter = {}) const;
    void set_observer(Observer observer) { observer_ = std::move(observer); }

  private:
    using Entry = std::variant<Handler, AsyncHandler>;
    void call(const nlohmann::json& request, const MethodFilter& filter, Completion done) const;
    Completion observed(std::string_view method, Completion done) const;
    void invoke(const Entry& entry, const nlohmann::json& params, Completion done) const;

    DispatcherLimits limits_;
    std::map<std::string, Entry, std::less<>> methods_;
    Observer observer_;
};

// Builds a complete response object for one request id.
nlohmann::json make_response(const nlohmann::json& id, Outcome outcome);  // moves the result
// The response's text: dump_json(make_response(id, outcome)), a RawJson result pasted in as is.
std::string response_text(const nlohmann::json& id, Outcome outcome);

}  // namespace btd::rpc
