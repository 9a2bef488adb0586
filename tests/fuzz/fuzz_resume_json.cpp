// libFuzzer target: a job's resume file (<state>/resume/<info-hash>.json, daemon/resume_json).
// Bad files must throw ResumeFormatError; a file that decodes must encode to a file that
// decodes to the same encoding again.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/resume_json.hpp"

using namespace btd;

namespace {

// The info-hash of tests/data/lt_single.torrent: the seed files name it.
const Sha1Hash kId = *sha1_from_hex("0dd3ba470adb6e6c0831ecc2f49b5d132296cb28");

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    ResumeData resume;
    try {
        resume = daemon::decode_resume_json(text, kId);
    } catch (const daemon::ResumeFormatError&) {
        return 0;
    }
    auto encoded = daemon::encode_resume_json(kId, resume);
    try {
        if (daemon::encode_resume_json(kId, daemon::decode_resume_json(encoded, kId)) != encoded)
            std::abort();
    } catch (const daemon::ResumeFormatError&) {
        std::abort();  // btd could not read back what it wrote
    }
    return 0;
}
