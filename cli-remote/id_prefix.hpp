#pragma once
// Resolving the id prefixes a user types to full info-hashes.
#include <string>
#include <vector>

namespace btd::btctl {

struct KnownTorrent {
    std::string id;  // 40 lowercase hex
    std::string name;
};

// Each prefix (case-insensitive hex, 1-40 chars) must match exactly one known torrent.
// Throws CliError(usage) for a non-hex prefix, no match, or an ambiguous one (listing candidates).
std::vector<std::string> resolve_id_prefixes(const std::vector<std::string>& prefixes,
                                             const std::vector<KnownTorrent>& known);

}  // namespace btd::btctl
