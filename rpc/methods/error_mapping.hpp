#pragma once
// Turns engine exceptions into RPC application errors, and reads torrent ids from params.
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/session/session.hpp"
#include "rpc/transport/errors.hpp"

namespace btd::rpc {

RpcError to_rpc_error(const SessionError& error);

// Runs fn; SessionError, MetainfoError, bencode::DecodeError and filesystem errors come out as
// RpcError (other exceptions pass through).
nlohmann::json translate_errors(const std::function<nlohmann::json()>& fn);

// A 40-character hex info-hash; throws invalid params otherwise.
Sha1Hash parse_torrent_id(const nlohmann::json& value);

// `ids` (array of hex info-hashes) or, when allow_all, `all: true`. Every id must be in the
// session (else unknown torrent, listing the missing ones), so nothing is half-applied.
std::vector<Sha1Hash> parse_torrent_ids(const nlohmann::json& params, const Session& session,
                                        bool allow_all);

}  // namespace btd::rpc
