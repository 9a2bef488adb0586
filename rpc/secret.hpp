#pragma once
// The RPC shared secret: random, hex, kept in a 0600 file in the state dir.
#include <filesystem>
#include <string>
#include <string_view>

namespace btd::rpc {

// 32 random bytes (OpenSSL RAND_bytes) as 64 lowercase hex characters.
std::string generate_secret();

// Reads the secret from `file`, or creates the file (mode 0600, O_EXCL) with a new one.
// Logs a warning if the file is readable by group or others. Throws std::runtime_error with an
// actionable message when the file cannot be read or created, or holds no usable secret.
std::string load_or_create_secret(const std::filesystem::path& file);

// Equality without early exit: both sides are hashed (SHA-256) and compared with CRYPTO_memcmp,
// so neither content nor length leaks through timing.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace btd::rpc
