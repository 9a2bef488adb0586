// libFuzzer target: the BEP 10 extension handshake decoder (core/peer/extension), fed the
// payload of an extended message with id 0. What decodes must survive an encode/decode round
// trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/peer/extension.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view payload(reinterpret_cast<const char*>(data), size);
    auto hs = btd::wire::decode_extension_handshake(payload);
    if (!hs) return 0;
    auto again = btd::wire::decode_extension_handshake(btd::wire::encode_extension_handshake(*hs));
    if (!again || again->messages != hs->messages || again->client != hs->client ||
        again->listen_port != hs->listen_port || again->request_queue != hs->request_queue)
        std::abort();
    return 0;
}
