#include "rpc/secret.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace btd::rpc {
namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kMinSecretChars = 16;
constexpr std::size_t kMaxSecretFileBytes = 4096;

std::runtime_error file_error(const std::string& what, const std::filesystem::path& file) {
    return std::runtime_error(what + " " + file.string() + ": " + std::strerror(errno));
}

// Closes the descriptor on every path out.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::string read_secret(int fd, const std::filesystem::path& file) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
        spdlog::warn("rpc secret file {} is accessible by other users; run: chmod 600 {}",
                     file.string(), file.string());
    std::string content;
    char buf[512];
    while (content.size() <= kMaxSecretFileBytes) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw file_error("cannot read rpc secret file", file);
        if (n == 0) break;
        content.append(buf, static_cast<std::size_t>(n));
    }
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    content.erase(content.begin(), std::find_if(content.begin(), content.end(), not_space));
    content.erase(std::find_if(content.rbegin(), content.rend(), not_space).base(), content.end());
    bool printable = std::all_of(content.begin(), content.end(),
                                 [](unsigned char c) { return std::isgraph(c); });
    if (content.size() < kMinSecretChars || content.size() > kMaxSecretFileBytes || !printable)
        throw std::runtime_error("rpc secret file " + file.string() +
                                 " does not hold a usable secret (16+ printable characters); "
                                 "delete it and a new one will be created");
    return content;
}

void write_all(int fd, std::string_view data, const std::filesystem::path& file) {
    while (!data.empty()) {
        auto n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw file_error("cannot write rpc secret file", file);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

std::string generate_secret() {
    std::array<unsigned char, kSecretBytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("cannot generate rpc secret: no randomness from OpenSSL");
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : bytes) {
        hex.push_back(digits[b >> 4]);
        hex.push_back(digits[b & 15]);
    }
    return hex;
}

std::string load_or_create_secret(const std::filesystem::path& file) {
    // Two rounds: if another process creates the file between our open attempts, read theirs.
    for (int attempt = 0; attempt < 2; ++attempt) {
        Fd existing{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
        if (existing.fd >= 0) return read_secret(existing.fd, file);
        if (errno != ENOENT) throw file_error("cannot open rpc secret file", file);

        Fd created{::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
        if (created.fd < 0) {
            if (errno == EEXIST) continue;
            throw file_error("cannot create rpc secret file", file);
        }
        auto secret = generate_secret();
        write_all(created.fd, secret + "\n", file);
        if (::fsync(created.fd) != 0) throw file_error("cannot sync rpc secret file", file);
        spdlog::info("created rpc secret in {}", file.string());
        return secret;
    }
    throw std::runtime_error("rpc secret file " + file.string() + " keeps appearing and vanishing");
}

bool secrets_equal(std::string_view a, std::string_view b) {
    auto digest = [](std::string_view s) {
        std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
        unsigned int len = 0;
        if (EVP_Digest(s.data(), s.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
            throw std::runtime_error("SHA-256 unavailable");
        return out;
    };
    auto da = digest(a), db = digest(b);
    return CRYPTO_memcmp(da.data(), db.data(), 32) == 0;
}

}  // namespace btd::rpc
