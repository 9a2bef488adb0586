#pragma once
// Named RPC tokens (`btctl token create NAME [--read-only]`), kept in <state_dir>/tokens.json
// (mode 0600) as SHA-256 hashes: the file never holds a usable token. A token is shown once, at
// creation. Runs on the network thread; create/revoke write the file synchronously (a few hundred
// bytes, rare admin actions). Throws std::runtime_error with an actionable message on I/O errors.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace btd::rpc::transport {

// Ordered: a higher scope may do everything a lower one may.
enum class Scope { none, read_only, full, admin };
std::string_view scope_name(Scope scope);  // "none", "read-only", "full", "admin"

inline constexpr std::string_view kTokensFile = "tokens.json";

struct TokenInfo {
    std::string name;
    Scope scope = Scope::read_only;  // read_only or full
    std::string sha256;              // hex of the token's hash
    std::int64_t created_at = 0;     // unix seconds
};

class TokenStore {
  public:
    // `file`: where tokens are kept (loaded now if it exists; an unreadable or corrupt file is
    // set aside with a warning, as the other state files are). Empty path: in memory only.
    explicit TokenStore(std::filesystem::path file);

    // Returns the new token (64 hex chars). Throws std::invalid_argument for a bad or taken name
    // (1..64 of [A-Za-z0-9._-]).
    std::string create(const std::string& name, bool read_only);
    bool revoke(std::string_view name);  // false if no such token
    const std::vector<TokenInfo>& list() const { return tokens_; }
    // The scope of a token value, or Scope::none; compares hashes in constant time.
    Scope scope_of(std::string_view token) const;
    std::string token_name_of(std::string_view token) const;  // empty if none

  private:
    void save() const;

    std::filesystem::path file_;
    std::vector<TokenInfo> tokens_;
};

}  // namespace btd::rpc::transport
