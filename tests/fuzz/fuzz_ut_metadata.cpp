// libFuzzer target: BEP 9 ut_metadata messages (core/peer/extensions/ut_metadata): the
// extended-message payload decoder, the handshake's metadata_size, and the assembler fed with
// the decoded data pieces as a peer would send them.
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/peer/extensions/ut_metadata.hpp"
#include "core/peer/wire.hpp"

namespace wire = btd::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view payload(reinterpret_cast<const char*>(data), size);
    (void)wire::handshake_metadata_size(payload);
    wire::MetadataMessage message;
    try {
        message = wire::decode_metadata_message(payload);
    } catch (const wire::ProtocolError&) {
        return 0;
    }
    if (message.type != wire::MetadataMsgType::data || message.total_size <= 0) return 0;
    wire::MetadataAssembler assembler(btd::Sha1Hash{}, message.total_size);
    (void)assembler.add_piece(1, message.piece, message.data, message.total_size);
    if (assembler.complete()) (void)assembler.verify();
    (void)assembler.next_missing();
    return 0;
}
