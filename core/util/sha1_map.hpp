#pragma once
// Ordered containers keyed by info-hash, with the cheap comparison of Sha1HashLess.
#include <map>
#include <set>

#include "core/util/hash.hpp"

namespace btd {

template <class Value>
using Sha1Map = std::map<Sha1Hash, Value, Sha1HashLess>;
using Sha1Set = std::set<Sha1Hash, Sha1HashLess>;

}  // namespace btd
