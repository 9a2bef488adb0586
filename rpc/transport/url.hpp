#pragma once
// http(s) URL parsing for fetching .torrent files and for btctl's --rpc URL: the engine's parser
// (core/util/http_get.hpp), under the names the RPC side already uses.
#include "core/util/http_get.hpp"

namespace btd::rpc {

using btd::parse_http_url;
using btd::Url;

}  // namespace btd::rpc
