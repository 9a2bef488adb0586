#pragma once
// Torrent labels as Transmission 4 has them: a list of short names per torrent (Sonarr and
// Radarr put their category in one). Kept by the Session beside each job, saved with its resume
// data.
#include <cstddef>
#include <string>
#include <vector>

namespace btd {

inline constexpr std::size_t kMaxLabels = 32;        // per torrent
inline constexpr std::size_t kMaxLabelLength = 128;  // bytes

// The labels as stored: duplicates dropped (first one kept), order kept. Throws
// SessionError{invalid_argument} naming the bad label: empty, longer than kMaxLabelLength, with a
// comma (Transmission clients join labels with commas) or a control character, not UTF-8, or
// more than kMaxLabels of them.
std::vector<std::string> checked_labels(const std::vector<std::string>& labels);

}  // namespace btd
