#pragma once
// token.create / token.list / token.revoke (admin secret only, see access.hpp): the RPC side of
// `btctl token`. Network thread only.
#include "rpc/transport/access.hpp"
#include "rpc/transport/dispatcher.hpp"

namespace btd::rpc::transport {

// `access` must outlive the dispatcher's use; it must have a TokenStore.
void register_token_methods(Dispatcher& dispatcher, Access& access);

}  // namespace btd::rpc::transport
