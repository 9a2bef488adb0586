#pragma once
// Rebuilds a .torrent from a parsed Metainfo, so a job added through any path (RPC, magnet
// later) can be stored in the state dir. The info dictionary is copied byte for byte
// (Metainfo::raw_info), so the result has the same info-hash.
#include <string>

#include "core/metainfo/metainfo.hpp"

namespace btd::daemon {

// announce, announce-list, comment, created by, creation date and info (keys in sorted order).
std::string encode_torrent_file(const Metainfo& meta);

}  // namespace btd::daemon
