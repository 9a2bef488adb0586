#include "rpc/transport/token_store.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "rpc/transport/safe_file.hpp"
#include "rpc/transport/secret.hpp"

namespace btd::rpc::transport {
namespace {

using nlohmann::json;
constexpr std::size_t kMaxTokens = 1000;
constexpr std::size_t kMaxFileBytes = 1024 * 1024;

std::string sha256_hex(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : digest) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

bool valid_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

Scope parse_scope(const std::string& text) {
    if (text == "read-only") return Scope::read_only;
    if (text == "full") return Scope::full;
    throw std::runtime_error("unknown scope '" + text + "'");
}

std::vector<TokenInfo> parse_tokens(const std::string& content) {
    std::vector<TokenInfo> tokens;
    auto doc = json::parse(content);
    for (const auto& row : doc.at("tokens")) {
        TokenInfo info{row.at("name").get<std::string>(),
                       parse_scope(row.at("scope").get<std::string>()),
                       row.at("sha256").get<std::string>(), row.value("created_at", 0LL)};
        if (!valid_name(info.name) || info.sha256.size() != 64)
            throw std::runtime_error("bad token entry");
        tokens.push_back(std::move(info));
    }
    return tokens;
}

void write_file_atomically(const std::filesystem::path& file, const std::string& content) {
    auto temp = file;
    temp += ".tmp";
    ::unlink(temp.c_str());
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    auto fail = [&](const char* what) {
        auto message = std::string(what) + " " + temp.string() + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        throw std::runtime_error(message);
    };
    if (fd < 0) fail("cannot create");
    std::string_view rest = content;
    while (!rest.empty()) {
        auto n = ::write(fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("cannot write");
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd) != 0) fail("cannot sync");
    ::close(fd);
    fd = -1;
    if (::rename(temp.c_str(), file.c_str()) != 0) fail("cannot rename");
}

}  // namespace

std::string_view scope_name(Scope scope) {
    switch (scope) {
        case Scope::read_only:
            return "read-only";
        case Scope::full:
            return "full";
        case Scope::admin:
            return "admin";
        default:
            return "none";
    }
}

TokenStore::TokenStore(std::filesystem::path file) : file_(std::move(file)) {
    if (file_.empty()) return;
    try {
        tokens_ = parse_tokens(read_regular_file(file_, kMaxFileBytes));
    } catch (const StateFileError& e) {
        if (e.kind() == StateFileError::Kind::missing) return;
        if (e.kind() == StateFileError::Kind::unreadable) throw;
        set_aside_corrupt(file_, e.what());
    } catch (const std::exception& e) {
        set_aside_corrupt(file_, std::string("not a valid token list: ") + e.what());
    }
}

std::string TokenStore::create(const std::string& name, bool read_only) {
    if (!valid_name(name))
        throw std::invalid_argument("token name '" + name +
                                    "' must be 1 to 64 letters, digits, '.', '_' or '-'");
    if (std::any_of(tokens_.begin(), tokens_.end(), [&](auto& t) { return t.name == name; }))
        throw std::invalid_argument("a token named '" + name +
                                    "' exists; revoke it first or pick another name");
    if (tokens_.size() >= kMaxTokens)
        throw std::invalid_argument("too many tokens (limit 1000); revoke some first");
    auto token = generate_secret();
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    tokens_.push_back({name, read_only ? Scope::read_only : Scope::full, sha256_hex(token), now});
    try {
        save();
    } catch (...) {
        tokens_.pop_back();
        throw;
    }
    return token;
}

bool TokenStore::revoke(std::string_view name) {
    auto it = std::find_if(tokens_.begin(), tokens_.end(), [&](auto& t) { return t.name == name; });
    if (it == tokens_.end()) return false;
    auto removed = *it;
    tokens_.erase(it);
    try {
        save();
    } catch (...) {
        tokens_.push_back(std::move(removed));
        throw;
    }
    return true;
}

Scope TokenStore::scope_of(std::string_view token) const {
    if (token.empty()) return Scope::none;
    auto hash = sha256_hex(token);
    Scope found = Scope::none;
    for (const auto& t : tokens_)  // no early exit: timing does not tell which entry matched
        if (CRYPTO_memcmp(t.sha256.data(), hash.data(), hash.size()) == 0) found = t.scope;
    return found;
}

std::string TokenStore::token_name_of(std::string_view token) const {
    auto hash = sha256_hex(token);
    for (const auto& t : tokens_)
        if (CRYPTO_memcmp(t.sha256.data(), hash.data(), hash.size()) == 0) return t.name;
    return {};
}

void TokenStore::save() const {
    if (file_.empty()) return;
    json rows = json::array();
    for (const auto& t : tokens_)
        rows.push_back({{"name", t.name},
                        {"scope", scope_name(t.scope)},
                        {"sha256", t.sha256},
                        {"created_at", t.created_at}});
    write_file_atomically(file_, json{{"tokens", rows}}.dump(2) + "\n");
}

}  // namespace btd::rpc::transport
