#include "rpc/methods/error_mapping.hpp"

#include <filesystem>

#include "core/bencode/bencode.hpp"
#include "core/metainfo/metainfo.hpp"

namespace btd::rpc {

using nlohmann::json;

RpcError to_rpc_error(const SessionError& error) {
    switch (error.code()) {
        case SessionError::Code::unknown_torrent:
            return RpcError(errc::unknown_torrent, error.what());
        case SessionError::Code::duplicate_torrent:
            return RpcError(errc::duplicate_torrent, error.what());
        case SessionError::Code::bad_download_dir:
            return RpcError(errc::bad_download_dir, error.what());
        case SessionError::Code::bad_torrent:
            return RpcError(errc::bad_torrent, std::string("unusable .torrent: ") + error.what());
        case SessionError::Code::invalid_argument:
            return RpcError(errc::invalid_params, error.what());
        case SessionError::Code::shutting_down:
            return RpcError(errc::shutting_down, error.what());
        case SessionError::Code::being_removed:
            return RpcError(errc::being_removed, error.what());
    }
    return RpcError(errc::internal_error, error.what());
}

json translate_errors(const std::function<json()>& fn) {
    try {
        return fn();
    } catch (const SessionError& e) {
        throw to_rpc_error(e);
    } catch (const MetainfoError& e) {
        // The reason names what is wrong and where, never the file's bytes (see bencode.cpp).
        throw RpcError(errc::bad_torrent, std::string("not a valid .torrent file: ") + e.what());
    } catch (const bencode::DecodeError& e) {
        throw RpcError(errc::bad_torrent, std::string("not a valid .torrent file: ") + e.what());
    } catch (const std::filesystem::filesystem_error& e) {
        throw RpcError(errc::bad_torrent, std::string("cannot read .torrent: ") + e.what());
    }
}

Sha1Hash parse_torrent_id(const json& value) {
    if (value.is_string()) {
        if (auto id = sha1_from_hex(value.get<std::string>())) return *id;
    }
    throw invalid_params("a torrent id must be its info-hash as 40 hex characters");
}

std::vector<Sha1Hash> parse_torrent_ids(const json& params, const Session& session,
                                        bool allow_all) {
    auto all = params.find("all");
    if (allow_all && all != params.end() && !all->is_null()) {
        if (!all->is_boolean()) throw invalid_params("all must be true or false");
        if (all->get<bool>()) {
            if (params.contains("ids")) throw invalid_params("give either ids or all, not both");
            return session.ids();
        }
    }
    auto ids = params.find("ids");
    if (ids == params.end() || !ids->is_array() || ids->empty())
        throw invalid_params(allow_all ? "give ids (a non-empty array of info-hashes) or all: true"
                                       : "give ids (a non-empty array of info-hashes)");
    std::vector<Sha1Hash> out;
    json missing = json::array();
    for (const auto& value : *ids) {
        auto id = parse_torrent_id(value);
        if (!session.contains(id)) missing.push_back(to_hex(id));
        out.push_back(id);
    }
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m.get<std::string>();
        throw RpcError(errc::unknown_torrent, "unknown torrent: " + list, {{"ids", missing}});
    }
    return out;
}

}  // namespace btd::rpc
