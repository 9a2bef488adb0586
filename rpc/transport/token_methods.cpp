#include "rpc/transport/token_methods.hpp"

#include "rpc/transport/params.hpp"

namespace btd::rpc::transport {
namespace {

using nlohmann::json;

std::string name_param(const json& params) {
    auto it = params.find("name");
    if (it == params.end() || !it->is_string())
        throw invalid_params("'name' (a string) is required");
    return it->get<std::string>();
}

}  // namespace

void register_token_methods(Dispatcher& d, Access& access) {
    d.add("token.create", [&access](const json& params) {
        auto name = name_param(params);
        bool read_only = params.value("read_only", false);
        try {
            auto token = access.tokens()->create(name, read_only);
            return json{{"name", name},
                        {"scope", scope_name(read_only ? Scope::read_only : Scope::full)},
                        {"token", token}};
        } catch (const std::invalid_argument& e) {
            throw invalid_params(e.what());
        }
    });
    d.add("token.list", [&access](const json&) {
        json rows = json::array();
        for (const auto& t : access.tokens()->list())
            rows.push_back(
                {{"name", t.name}, {"scope", scope_name(t.scope)}, {"created_at", t.created_at}});
        return rows;
    });
    d.add("token.revoke", [&access](const json& params) {
        auto name = name_param(params);
        if (!access.tokens()->revoke(name))
            throw invalid_params("no token named '" + name + "' (see `btctl token list`)");
        access.sessions().remove_for_token(name);  // its browser sessions end at once too
        return json::object();
    });
}

}  // namespace btd::rpc::transport
