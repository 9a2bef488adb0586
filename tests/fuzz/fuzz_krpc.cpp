// libFuzzer target: DHT packets (core/dht/krpc, BEP 5 KRPC) as a UDP socket delivers them, and
// the saved routing table (core/dht/routing_table) read back from the state dir. decode_krpc
// never throws; a message that decodes must encode to a packet that decodes to the same message.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "core/dht/krpc.hpp"
#include "core/dht/routing_table.hpp"

namespace dht = btd::dht;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view packet(reinterpret_cast<const char*>(data), size);
    auto result = dht::decode_krpc(packet);
    if (auto* message = std::get_if<dht::Message>(&result)) {
        auto again = dht::decode_krpc(dht::encode_krpc(*message));
        auto* decoded = std::get_if<dht::Message>(&again);
        if (!decoded || !(*decoded == *message)) std::abort();
    }
    if (auto saved = dht::load_routing_table(packet))
        if (saved->nodes.size() > dht::kMaxSavedNodes) std::abort();
    return 0;
}
