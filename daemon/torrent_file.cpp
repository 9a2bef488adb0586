#include "daemon/torrent_file.hpp"

#include "core/bencode/bencode.hpp"

namespace btd::daemon {

namespace be = btd::bencode;

std::string encode_torrent_file(const Metainfo& meta) {
    auto key = [](std::string_view k) { return be::encode(be::make_string(std::string(k))); };
    be::List tiers;
    std::string first_url;
    for (auto& tier : meta.announce_tiers) {
        be::List urls;
        for (auto& url : tier) {
            if (first_url.empty()) first_url = url;
            urls.push_back(be::make_string(url));
        }
        if (!urls.empty()) tiers.push_back(be::make_list(std::move(urls)));
    }
    // Keys in byte order, as bencode requires: every one sorts before "info".
    std::string out = "d";
    if (!first_url.empty()) out += key("announce") + be::encode(be::make_string(first_url));
    if (!tiers.empty()) out += key("announce-list") + be::encode(be::make_list(std::move(tiers)));
    if (!meta.comment.empty()) out += key("comment") + be::encode(be::make_string(meta.comment));
    if (!meta.created_by.empty())
        out += key("created by") + be::encode(be::make_string(meta.created_by));
    if (meta.creation_date != 0)
        out += key("creation date") + be::encode(be::make_int(meta.creation_date));
    out += key("info") + meta.raw_info + "e";
    return out;
}

}  // namespace btd::daemon
