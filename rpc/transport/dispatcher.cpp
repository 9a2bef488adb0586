#include "rpc/transport/dispatcher.hpp"

#include <memory>
#include <vector>

namespace btd::rpc {
namespace {

using nlohmann::json;

bool is_valid_id(const json& id) {
    return id.is_string() || id.is_number() || id.is_null();
}

// Checks the request object's shape; throws RpcError(invalid_request) on the first problem.
void validate_request(const json& request) {
    if (!request.is_object()) throw RpcError(errc::invalid_request, "request must be an object");
    auto version = request.find("jsonrpc");
    if (version == request.end() || *version != "2.0")
        throw RpcError(errc::invalid_request, "jsonrpc must be \"2.0\"");
    auto method = request.find("method");
    if (method == request.end() || !method->is_string())
        throw RpcError(errc::invalid_request, "method must be a string");
    auto params = request.find("params");
    if (params != request.end() && !params->is_object() && !params->is_array())
        throw RpcError(errc::invalid_request, "params must be an object or an array");
    auto id = request.find("id");
    if (id != request.end() && !is_valid_id(*id))
        throw RpcError(errc::invalid_request, "id must be a string, a number or null");
}

// A valid request without "id" is a notification. An invalid one always gets a reply (with
// id null when it has none), as JSON-RPC 2.0 answers {"jsonrpc":"2.0","method":1}.
bool wants_reply(const json& request) {
    if (!request.is_object() || request.contains("id")) return true;
    try {
        validate_request(request);
        return false;
    } catch (const RpcError&) {
        return true;
    }
}

json reply_id(const json& request) {
    if (!request.is_object()) return nullptr;
    auto id = request.find("id");
    return (id != request.end() && is_valid_id(*id)) ? *id : json(nullptr);
}

// Collects the responses of a batch; replies once the last request has answered.
struct BatchState {
    std::vector<std::optional<std::string>> responses;  // JSON text of each
    std::size_t pending = 0;
    Dispatcher::ReplyCallback reply;

    void finish_one() {
        if (--pending > 0) return;
        std::string out;
        for (auto& r : responses) {
            if (!r) continue;
            out += out.empty() ? '[' : ',';
            out += *r;
        }
        auto cb = std::move(reply);
        if (out.empty())
            cb(std::nullopt);
        else
            cb(out + ']');
    }
};

}  // namespace

json make_response(const json& id, Outcome outcome) {
    json response = {{"jsonrpc", "2.0"}};
    if (auto* raw = std::get_if<RawJson>(&outcome)) {
        response["result"] = json::parse(raw->text);
    } else if (auto* result = std::get_if<json>(&outcome)) {
        response["result"] = std::move(*result);  // a 1,000-torrent list is not copied
    } else {
        const auto& err = std::get<RpcError>(outcome);
        json error = {{"code", err.code()}, {"message", err.what()}};
        if (!err.data().is_null()) error["data"] = err.data();
        response["error"] = std::move(error);
    }
    response["id"] = id;
    return response;
}

std::string response_text(const json& id, Outcome outcome) {
    auto* raw = std::get_if<RawJson>(&outcome);
    if (!raw) return dump_json(make_response(id, std::move(outcome)));
    // Members in the order dump_json() gives an object's: by name.
    std::string out = "{\"id\":" + dump_json(id) + ",\"jsonrpc\":\"2.0\",\"result\":";
    out.reserve(out.size() + raw->text.size() + 1);
    out += raw->text;
    out += '}';
    return out;
}

void Dispatcher::add(std::string name, Handler handler) {
    methods_.insert_or_assign(std::move(name), Entry(std::move(handler)));
}

void Dispatcher::add_async(std::string name, AsyncHandler handler) {
    methods_.insert_or_assign(std::move(name), Entry(std::move(handler)));
}

bool Dispatcher::has(std::string_view name) const {
    return methods_.find(name) != methods_.end();
}

void Dispatcher::handle(std::string_view body, ReplyCallback reply, MethodFilter filter) const {
    auto parsed = parse_json_limited(body, limits_.max_depth);
    if (!parsed) {
        auto err =
            RpcError(errc::parse_error, "parse error: not valid JSON, or nested deeper than " +
                                            std::to_string(limits_.max_depth) + " levels");
        reply(dump_json(make_response(nullptr, err)));
        return;
    }
    json& message = *parsed;

    if (!message.is_array()) {
        bool respond = wants_reply(message);
        json id = reply_id(message);
        call(message, filter, [respond, id, reply = std::move(reply)](Outcome outcome) {
            if (respond)
                reply(response_text(id, std::move(outcome)));
            else
                reply(std::nullopt);
        });
        return;
    }

    if (message.empty()) {
        reply(dump_json(make_response(nullptr, RpcError(errc::invalid_request, "empty batch"))));
        return;
    }
    if (message.size() > limits_.max_batch) {
        auto err = RpcError(errc::invalid_request,
                            "batch too large (limit " + std::to_string(limits_.max_batch) + ")");
        reply(dump_json(make_response(nullptr, err)));
        return;
    }

    auto batch = std::make_shared<BatchState>();
    batch->responses.resize(message.size());
    batch->pending = message.size() + 1;  // +1 so nothing replies before every call has started
    batch->reply = std::move(reply);
    for (std::size_t i = 0; i < message.size(); ++i) {
        const json& request = message[i];
        bool respond = wants_reply(request);
        json id = reply_id(request);
        call(request, filter, [batch, i, respond, id](Outcome outcome) {
            if (respond) batch->responses[i] = response_text(id, std::move(outcome));
            batch->finish_one();
        });
    }
    batch->finish_one();
}

void Dispatcher::call(const json& request, const MethodFilter& filter, Completion done) const {
    try {
        validate_request(request);
    } catch (const RpcError& e) {
        done(e);
        return;
    }
    const auto& name = request["method"].get_ref<const std::string&>();
    auto method = methods_.find(name);
    if (method == methods_.end()) {
        observed("unknown", std::move(done))(
            RpcError(errc::method_not_found, "unknown method '" + name + "'"));
        return;
    }
    done = observed(method->first, std::move(done));
    if (filter) {
        if (auto refusal = filter(name)) {
            done(std::move(*refusal));
            return;
        }
    }
    auto params = request.find("params");
    invoke(method->second, params != request.end() ? *params : json::object(), std::move(done));
}

Dispatcher::Completion Dispatcher::observed(std::string_view method, Completion done) const {
    if (!observer_) return done;
    // `method` is a key of methods_ (or a literal): it outlives the call.
    return [this, method, start = std::chrono::steady_clock::now(),
            done = std::move(done)](Outcome outcome) {
        observer_(method, std::chrono::steady_clock::now() - start,
                  !std::holds_alternative<RpcError>(outcome));
        done(std::move(outcome));
    };
}

void Dispatcher::invoke(const Entry& entry, const json& params, Completion done) const {
    // Whatever the handler does, `done` runs exactly once.
    auto called = std::make_shared<bool>(false);
    Completion once = [called, done = std::move(done)](Outcome outcome) {
        if (*called) return;
        *called = true;
        done(std::move(outcome));
    };
    try {
        if (auto* sync = std::get_if<Handler>(&entry)) {
            once((*sync)(params));
        } else {
            std::get<AsyncHandler>(entry)(params, once);
        }
    } catch (const RpcError& e) {
        once(e);
    } catch (const nlohmann::json::exception& e) {
        once(RpcError(errc::invalid_params, std::string("invalid params: ") + e.what()));
    } catch (const std::exception& e) {
        once(RpcError(errc::internal_error, std::string("internal error: ") + e.what()));
    } catch (...) {
        once(RpcError(errc::internal_error, "internal error"));
    }
}

}  // namespace btd::rpc
