#pragma once
// Standard base64 (RFC 4648 §4) for .torrent files carried in JSON.
#include <optional>
#include <string>
#include <string_view>

namespace btd::rpc {

std::string base64_encode(std::string_view bytes);
// Accepts padded or unpadded input and ignores ASCII whitespace; nullopt on any other character
// or an impossible length.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace btd::rpc
