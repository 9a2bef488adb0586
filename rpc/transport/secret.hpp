#pragma once
// The RPC shared secret: random, hex, kept in a 0600 file in the state dir.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace btd::rpc {

// 32 random bytes (OpenSSL RAND_bytes) as 64 lowercase hex characters.
std::string generate_secret();

// Reads the secret from `file` (a regular file, at most 4 KiB, read without following symlinks
// or blocking on a FIFO). When the file is absent it is created atomically (temp file, fsync,
// rename; mode 0600). When it holds no usable secret (empty after a crash, too short, not
// printable) or is not a regular file, it is set aside as `rpc.secret.corrupt-<time>` and a new
// secret is created, with a warning in the log. Logs a warning if the file is readable by group
// or others. Throws std::runtime_error with an actionable message when the file cannot be read
// (permissions) or a new one cannot be created.
std::string load_or_create_secret(const std::filesystem::path& file);

// The secret in a secret file's content: surrounding whitespace trimmed, 16 to 4096 printable
// characters; nullopt otherwise. Pure (fuzzable).
std::optional<std::string> parse_secret(std::string content);

// Equality without early exit: both sides are hashed (SHA-256) and compared with CRYPTO_memcmp,
// so neither content nor length leaks through timing.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace btd::rpc
