#include "core/session/status_changes.hpp"

#include <chrono>
#include <cstring>
#include <string_view>

namespace btd {
namespace {

class Fnv1a {
  public:
    void add(const void* data, std::size_t n) {
        const auto* p = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i < n; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ULL;
    }
    template <class T>
    void add_value(const T& value) {
        add(&value, sizeof value);
    }
    void add_string(std::string_view s) {
        add_value(s.size());  // "ab","c" and "a","bc" differ
        add(s.data(), s.size());
    }
    std::uint64_t value() const { return hash_; }

  private:
    std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::uint64_t clock_sequence() {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    // Microseconds: below 2^53 for centuries, so a token survives a trip through a JSON double.
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

}  // namespace

std::uint64_t status_fingerprint(const TorrentStatus& s) {
    Fnv1a h;
    h.add_string(s.name);
    h.add_value(s.state);
    h.add_value(s.progress);
    h.add_value(s.size);
    h.add_value(s.total_size);
    h.add_value(s.have_bytes);
    h.add_value(s.downloaded);
    h.add_value(s.uploaded);
    h.add_value(s.download_rate);
    h.add_value(s.upload_rate);
    h.add_value(s.peers);
    h.add_value(s.seeds);
    h.add_value(s.eta);
    h.add_value(s.ratio);
    h.add_string(s.error);
    h.add_string(s.download_dir.native());
    h.add_value(s.added_at);
    h.add_value(s.sequential);
    for (const auto& label : s.labels) h.add_string(label);
    h.add_value(s.labels.size());
    h.add_value(s.queue_position);
    h.add_value(s.stalled);
    return h.value();
}

StatusChangeTracker::StatusChangeTracker() : StatusChangeTracker(clock_sequence()) {}

StatusChangeTracker::StatusChangeTracker(std::uint64_t first_sequence, std::size_t removed_kept)
    : sequence_(first_sequence), floor_(first_sequence), removed_kept_(removed_kept) {}

std::uint64_t StatusChangeTracker::observe(const TorrentStatus& status) {
    auto fingerprint = status_fingerprint(status);
    auto [it, inserted] = seen_.try_emplace(status.id);
    if (inserted || it->second.fingerprint != fingerprint) {
        it->second.fingerprint = fingerprint;
        it->second.changed_at = ++sequence_;
    }
    return it->second.changed_at;
}

void StatusChangeTracker::removed(const Sha1Hash& id) {
    if (seen_.erase(id) == 0) return;  // never listed by a poller: nobody needs to hear of it
    removed_.emplace_back(++sequence_, id);
    if (removed_.size() > removed_kept_) {
        // A poller older than the dropped entry could miss it: it gets the complete list.
        floor_ = removed_.front().first;
        removed_.pop_front();
    }
}

std::vector<Sha1Hash> StatusChangeTracker::removed_since(std::uint64_t since) const {
    std::vector<Sha1Hash> out;
    for (auto it = removed_.rbegin(); it != removed_.rend() && it->first > since; ++it)
        out.push_back(it->second);
    return out;
}

}  // namespace btd
