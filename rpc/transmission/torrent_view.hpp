#pragma once
// One torrent as torrent-get sees it: its status, and the details and metainfo fetched from the
// Session only when a requested field needs them (internal).
#include <optional>
#include <vector>

#include "core/session/session.hpp"

namespace btd::rpc::transmission {

class TorrentView {
  public:
    TorrentView(const Session& session, const TorrentStatus& status, int id, int queue_position)
        : session_(session), status_(status), id_(id), queue_position_(queue_position) {}

    const TorrentStatus& status() const { return status_; }
    int id() const { return id_; }
    int queue_position() const { return queue_position_; }
    const SessionSettings& settings() const { return session_.settings(); }
    const Metainfo& meta() const { return session_.metainfo(status_.id); }
    const TorrentDetails& details() const {
        if (!details_) details_ = session_.details(status_.id);
        return *details_;
    }
    // Transmission lists no BEP 47 pad files; file indices in requests count only these.
    const std::vector<const FileStatus*>& files() const {
        if (!files_) {
            files_.emplace();
            for (const auto& f : details().files)
                if (!f.pad) files_->push_back(&f);
        }
        return *files_;
    }

  private:
    const Session& session_;
    const TorrentStatus& status_;
    int id_;
    int queue_position_;
    mutable std::optional<TorrentDetails> details_;
    mutable std::optional<std::vector<const FileStatus*>> files_;
};

// btd's file index (which counts pad files) of each of Transmission's file indices.
std::vector<int> visible_file_indices(const Metainfo& meta);

}  // namespace btd::rpc::transmission

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace btd::rpc::transmission {

using FieldFn = std::function<nlohmann::json(const TorrentView&)>;
// Every torrent-get field btd answers, by Transmission's name; others are left out of replies.
const std::map<std::string_view, FieldFn>& torrent_fields();
// Appends a field's value as JSON text: the same text as dump_json() of torrent_fields()'s
// value, without building it. Fields whose value is one number, bool or string have one, and
// labels; the lists (files, peers, trackers ...) have none (nullptr).
using FieldWriter = void (*)(std::string& out, const TorrentView&);
FieldWriter torrent_field_writer(std::string_view name);

// Transmission's status number (0 stopped ... 6 seeding) for a btd state.
int transmission_status(const TorrentStatus& status);
// btd priority (0 skip, 1..7) <-> Transmission's -1 low, 0 normal, 1 high.
int transmission_priority(int btd_priority);
int btd_priority(int transmission_priority);

}  // namespace btd::rpc::transmission
