#pragma once
// The on-disk form of a job's resume data (<state>/resume/<info-hash>.json):
//   {"version": 1, "info_hash": "<hex>", "have": "0110...", "files": [{"size": N, "mtime": T}],
//    "paused": false, "total_downloaded": N, "total_uploaded": N, "added_at": T, "done_at": T,
//    "seconds_downloading": N, "seconds_seeding": N, "activity_at": T,
//    "download_dir": "/path", "limits": {"download_rate_limit": N, "upload_rate_limit": N,
//    "ratio_limit": R, "seed_idle_limit": S}}
// A download dir that is not valid UTF-8 is stored as "download_dir_hex" instead. "limits" and
// each key in it appear only when set (torrent.set); files without them load as "not set".
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/session/types.hpp"
#include "core/util/hash.hpp"

namespace btd::daemon {

class ResumeFormatError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string encode_resume_json(const Sha1Hash& id, const ResumeData& data);

// Throws ResumeFormatError saying what is wrong (not JSON, wrong version, other torrent, bad
// field). Values are checked only for form; the engine decides whether they match the files.
ResumeData decode_resume_json(std::string_view text, const Sha1Hash& expected_id);

}  // namespace btd::daemon
