#include "cli-remote/id_prefix.hpp"

#include <algorithm>
#include <cctype>

#include "cli-remote/cli_error.hpp"
#include "core/util/ascii.hpp"

namespace btd::btctl {

std::vector<std::string> resolve_id_prefixes(const std::vector<std::string>& prefixes,
                                             const std::vector<KnownTorrent>& known) {
    std::vector<std::string> out;
    for (const auto& raw : prefixes) {
        std::string prefix = ascii_lower(raw);
        bool hex = !prefix.empty() && prefix.size() <= 40 &&
                   std::all_of(prefix.begin(), prefix.end(),
                               [](unsigned char c) { return std::isxdigit(c); });
        if (!hex)
            throw usage_error("'" + raw + "' is not a torrent id (hex info-hash or a prefix)");

        std::vector<const KnownTorrent*> matches;
        for (const auto& t : known)
            if (t.id.compare(0, prefix.size(), prefix) == 0) matches.push_back(&t);
        if (matches.empty()) throw usage_error("no torrent with id '" + raw + "'");
        if (matches.size() > 1) {
            std::string message = "id '" + raw + "' is ambiguous; it matches:";
            for (const auto* m : matches) message += "\n  " + m->id + "  " + m->name;
            throw usage_error(message);
        }
        if (std::find(out.begin(), out.end(), matches.front()->id) == out.end())
            out.push_back(matches.front()->id);
    }
    return out;
}

}  // namespace btd::btctl
