#include "rpc/transmission/transmission_rpc.hpp"

#include <stdexcept>

#include "core/util/hash.hpp"
#include "rpc/transport/errors.hpp"
#include "rpc/transport/json_parse.hpp"
#include "rpc/transport/secret.hpp"

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;

constexpr std::string_view kUnknownMethod = "method name not recognized";

// The reply's text: its members in name order, as dumping the object would give them.
std::string reply_text(const json& tag, const std::string& result, std::string_view arguments) {
    std::string out = "{\"arguments\":";
    out += arguments;
    out += ",\"result\":";
    out += dump_json(json(result));
    if (!tag.is_null()) {
        out += ",\"tag\":";
        out += dump_json(tag);
    }
    out += '}';
    return out;
}

}  // namespace

std::string version_string() {
    return "4.0.0 (" + std::string(kClientName) + " " + std::string(kClientVersion) + ")";
}

TransmissionRpc::TransmissionRpc(Session& session, boost::asio::io_context& io,
                                 TransmissionOptions options)
    : session_(session),
      options_(std::move(options)),
      context_{session, io, ids_, options_, Clock::now(), make_client_tls_context()} {
    if (options_.session_id.empty()) options_.session_id = generate_secret().substr(0, 48);
    events_ = session.add_event_listener([this](const SessionEvent& e) {
        if (e.get<AddedEvent>() || e.get<RemovedEvent>()) ids_.mark_changed();
    });
    auto add_sync = [this](std::string name, std::function<json(const json&)> method) {
        this->add_sync(std::move(name), std::move(method));
    };
    auto add = [this](std::string name, Method method) {
        this->add(std::move(name), std::move(method));
    };
    register_session_requests(add, add_sync, context_);
    register_torrent_get(
        [this](std::string name, TextMethod method) {
            text_methods_.insert_or_assign(std::move(name), std::move(method));
        },
        context_);
    register_torrent_actions(add, add_sync, context_);
}

void TransmissionRpc::add(std::string name, Method method) {
    methods_.insert_or_assign(std::move(name), std::move(method));
}

void TransmissionRpc::add_sync(std::string name, std::function<json(const json&)> method) {
    add(std::move(name), [method = std::move(method)](const json& arguments, Done done) {
        done("success", method(arguments));
    });
}

void TransmissionRpc::handle(std::string_view body, Reply reply) {
    auto respond = [reply](json tag, std::string result, json arguments) {
        reply(reply_text(tag, result, arguments.is_object() ? dump_json(arguments) : "{}"));
    };
    auto request = parse_json_limited(body);
    if (!request || !request->is_object()) {
        respond(nullptr, "invalid request: expected a JSON object with \"method\"", nullptr);
        return;
    }
    json tag = request->value("tag", json());
    auto method = request->find("method");
    auto arguments = request->find("arguments");
    if (method == request->end() || !method->is_string()) {
        respond(tag, "invalid request: \"method\" must be a string", nullptr);
        return;
    }
    if (arguments != request->end() && !arguments->is_object()) {
        respond(tag, "invalid request: \"arguments\" must be an object", nullptr);
        return;
    }
    ids_.sync_if_changed(session_, Clock::now());
    const auto& name = method->get_ref<const std::string&>();
    const json& args = arguments != request->end() ? *arguments : json::object();
    auto text_done = [&reply, &tag](std::string result, std::string out) {
        reply(reply_text(tag, result, out));
    };
    if (call_text(name, args, text_done)) return;
    call(name, args, [respond, tag](std::string result, json out) {
        respond(tag, std::move(result), std::move(out));
    });
}

// False if `name` is not a text method. Exceptions become the result text, as in call().
bool TransmissionRpc::call_text(
    const std::string& name, const json& arguments,
    const std::function<void(std::string result, std::string arguments)>& done) {
    auto method = text_methods_.find(name);
    if (method == text_methods_.end()) return false;
    std::string text;
    try {
        text = method->second(arguments);
    } catch (const json::exception& e) {
        done(std::string("invalid argument: ") + e.what(), "{}");
        return true;
    } catch (const std::exception& e) {
        done(e.what(), "{}");
        return true;
    }
    done("success", std::move(text));
    return true;
}

void TransmissionRpc::call(const std::string& name, const json& arguments, Done done) {
    auto method = methods_.find(name);
    if (method == methods_.end()) return done(std::string(kUnknownMethod), nullptr);
    // Whatever the method does, `done` runs once; exceptions become the result text.
    auto called = std::make_shared<bool>(false);
    Done once = [called, done = std::move(done)](std::string result, json out) {
        if (*called) return;
        *called = true;
        done(std::move(result), std::move(out));
    };
    try {
        method->second(arguments, once);
    } catch (const json::exception& e) {
        once(std::string("invalid argument: ") + e.what(), nullptr);
    } catch (const std::exception& e) {
        once(e.what(), nullptr);
    }
}

}  // namespace btd::rpc::transmission
