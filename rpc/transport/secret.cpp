#include "rpc/transport/secret.hpp"

#include "rpc/transport/safe_file.hpp"

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

void warn_if_shared(const std::filesystem::path& file) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
        spdlog::warn("rpc secret file {} is accessible by other users; run: chmod 600 {}",
                     file.string(), file.string());
}

}  // namespace

std::optional<std::string> parse_secret(std::string content) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    content.erase(content.begin(), std::find_if(content.begin(), content.end(), not_space));
    content.erase(std::find_if(content.rbegin(), content.rend(), not_space).base(), content.end());
    bool printable = std::all_of(content.begin(), content.end(),
                                 [](unsigned char c) { return std::isgraph(c); });
    if (content.size() < kMinSecretChars || content.size() > kMaxSecretFileBytes || !printable)
        return std::nullopt;
    return content;
}

namespace {

void write_all(int fd, std::string_view data, const std::filesystem::path& file) {
    while (!data.empty()) {
        auto n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw file_error("cannot write rpc secret file", file);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Temp file, fsync, rename, fsync dir: a crash leaves either no secret or a whole one, never an
// empty file that would stop every later start.
std::string create_secret(const std::filesystem::path& file) {
    auto temp = file;
    temp += ".tmp";
    ::unlink(temp.c_str());  // left by a crash; O_EXCL below refuses anything else
    {
        Fd created{
            ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
        if (created.fd < 0) throw file_error("cannot create rpc secret file", temp);
        auto secret = generate_secret();
        write_all(created.fd, secret + "\n", temp);
        if (::fsync(created.fd) != 0) throw file_error("cannot sync rpc secret file", temp);
        if (::rename(temp.c_str(), file.c_str()) != 0)
            throw file_error("cannot rename rpc secret file to", file);
        auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
        Fd dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
        if (dir_fd.fd >= 0) ::fsync(dir_fd.fd);
        spdlog::info("created rpc secret in {}", file.string());
        return secret;
    }
}

}  // namespace

std::string generate_secret() {
    std::array<unsigned char, kSecretBytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("cannot generate rpc secret: no randomness from OpenSSL");
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : bytes) {
        hex.push_back(kDigits[b >> 4]);
        hex.push_back(kDigits[b & 15]);
    }
    return hex;
}

std::string load_or_create_secret(const std::filesystem::path& file) {
    try {
        auto secret = parse_secret(read_regular_file(file, kMaxSecretFileBytes));
        if (secret) {
            warn_if_shared(file);
            return *secret;
        }
        set_aside_corrupt(file, "it holds no usable secret (16+ printable characters)");
    } catch (const StateFileError& e) {
        if (e.kind() == StateFileError::Kind::unreadable)
            throw std::runtime_error(std::string("cannot read rpc secret file ") + e.what() +
                                     "; fix its permissions or delete it");
        if (e.kind() != StateFileError::Kind::missing) set_aside_corrupt(file, e.what());
    }
    spdlog::warn("creating a new rpc secret in {}; clients with the old one must re-read it",
                 file.string());
    return create_secret(file);
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
