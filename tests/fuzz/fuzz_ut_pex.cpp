// libFuzzer target: BEP 11 ut_pex messages (core/peer/extensions/ut_pex). Bad payloads throw
// ProtocolError; what decodes stays within the limits and survives encode + decode unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/peer/extensions/ut_pex.hpp"
#include "core/peer/wire.hpp"

namespace wire = btd::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view payload(reinterpret_cast<const char*>(data), size);
    wire::PexMessage message;
    try {
        message = wire::decode_pex(payload);
    } catch (const wire::ProtocolError&) {
        return 0;
    }
    wire::PexLimits limits;
    if (message.added.size() > limits.max_added || message.dropped.size() > limits.max_dropped)
        std::abort();
    auto again = wire::decode_pex(wire::encode_pex(message));
    if (again.added != message.added || again.dropped != message.dropped) std::abort();
    return 0;
}
