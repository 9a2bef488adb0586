#include "daemon/job_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/atomic_file.hpp"
#include "daemon/resume_json.hpp"
#include "rpc/transport/safe_file.hpp"

namespace btd::daemon {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxResumeBytes = 64 * 1024 * 1024;

void remove_temp_files(const fs::path& dir) {
    std::error_code ec;
    for (auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".tmp") fs::remove(entry.path(), ec);
}

}  // namespace

JobStore::JobStore(fs::path state_dir)
    : torrents_dir_(state_dir / "torrents"), resume_dir_(state_dir / "resume") {}

void JobStore::prepare() const {
    for (auto& dir : {torrents_dir_, resume_dir_}) {
        std::error_code ec;
        auto type = fs::symlink_status(dir, ec).type();
        if (type != fs::file_type::not_found && type != fs::file_type::directory)
            rpc::set_aside_corrupt(dir, "not a directory");
        fs::create_directories(dir);
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
    }
}

fs::path JobStore::torrent_path(const Sha1Hash& id) const {
    return torrents_dir_ / (to_hex(id) + ".torrent");
}

fs::path JobStore::magnet_path(const Sha1Hash& id) const {
    return torrents_dir_ / (to_hex(id) + ".magnet");
}

bool JobStore::has_magnet(const Sha1Hash& id) const {
    std::error_code ec;
    return fs::is_regular_file(magnet_path(id), ec);
}

void JobStore::save_magnet(const Sha1Hash& id, const std::string& uri) {
    std::lock_guard lock(mutex_);
    batch_.stage(magnet_path(id), uri + "\n", 0600);
}

void JobStore::remove_magnet(const Sha1Hash& id) {
    std::lock_guard lock(mutex_);
    batch_.discard(magnet_path(id));
    remove_file_durably(magnet_path(id));
}

fs::path JobStore::resume_path(const Sha1Hash& id) const {
    return resume_dir_ / (to_hex(id) + ".json");
}

bool JobStore::has_torrent(const Sha1Hash& id) const {
    std::error_code ec;
    return fs::is_regular_file(torrent_path(id), ec);
}

void JobStore::save_torrent(const Sha1Hash& id, const std::string& torrent_bytes) {
    std::lock_guard lock(mutex_);
    batch_.stage(torrent_path(id), torrent_bytes, 0600);
}

bool JobStore::save_resume(const Sha1Hash& id, const ResumeData& data) {
    auto bytes = encode_resume_json(id, data);
    auto digest = sha1(bytes);
    std::lock_guard lock(mutex_);
    if (auto it = resume_digest_.find(id); it != resume_digest_.end() && it->second == digest) {
        ++resume_writes_skipped_;
        return false;
    }
    // Forget the old digest first: if the write fails, the next save must try again.
    resume_digest_.erase(id);
    batch_.stage(resume_path(id), bytes, 0600);
    resume_digest_[id] = digest;
    ++resume_files_written_;
    return true;
}

void JobStore::commit() {
    std::lock_guard lock(mutex_);
    if (batch_.empty()) return;
    try {
        batch_.commit();
    } catch (...) {
        // Which digests belong to the failed files is unknown: the next saves all write.
        resume_digest_.clear();
        throw;
    }
}

void JobStore::remove(const Sha1Hash& id) {
    std::lock_guard lock(mutex_);
    resume_digest_.erase(id);
    batch_.discard(resume_path(id));
    batch_.discard(torrent_path(id));
    batch_.discard(magnet_path(id));
    // Resume data first: a .torrent without resume data is still a valid (re-checked) job.
    remove_file_durably(resume_path(id));
    remove_file_durably(torrent_path(id));
    remove_file_durably(magnet_path(id));
}

namespace {

// A state file that cannot be used: set it aside unless it is merely unreadable (permissions,
// I/O error), which the user can fix with the file in place.
void set_aside_unless_unreadable(const fs::path& file, const rpc::StateFileError& e) {
    if (e.kind() == rpc::StateFileError::Kind::unreadable)
        spdlog::warn("cannot read {}; leaving it in place", e.what());
    else
        rpc::set_aside_corrupt(file, e.what());
}

std::optional<Metainfo> load_stored_torrent(const fs::path& file, const Sha1Hash& id) {
    std::string bytes;
    try {
        bytes = rpc::read_regular_file(file, kMaxTorrentFileBytes);
    } catch (const rpc::StateFileError& e) {
        set_aside_unless_unreadable(file, e);
        return std::nullopt;
    }
    try {
        auto meta = parse_metainfo(bytes);
        if (meta.info_hash == id) return meta;
        rpc::set_aside_corrupt(file, "its info-hash is " + to_hex(meta.info_hash));
    } catch (const std::exception& e) {
        rpc::set_aside_corrupt(file, std::string("not a valid .torrent: ") + e.what());
    }
    return std::nullopt;
}

std::optional<MagnetLink> load_stored_magnet(const fs::path& file, const Sha1Hash& id) {
    try {
        auto link = load_magnet_file(file);
        if (link.info_hash == id) return link;
        rpc::set_aside_corrupt(file, "its info-hash is " + to_hex(link.info_hash));
    } catch (const std::exception& e) {
        rpc::set_aside_corrupt(file, std::string("not a usable magnet link: ") + e.what());
    }
    return std::nullopt;
}

}  // namespace

// Reads one job's resume data; returns nullopt (the job is checked in full) when there is none
// or it is unusable, which only this job pays for.
std::optional<ResumeData> JobStore::load_resume(const Sha1Hash& id, const std::string& name) {
    auto file = resume_path(id);
    std::string text;
    try {
        text = rpc::read_regular_file(file, kMaxResumeBytes);
    } catch (const rpc::StateFileError& e) {
        if (e.kind() == rpc::StateFileError::Kind::missing) return std::nullopt;
        set_aside_unless_unreadable(file, e);
        spdlog::warn("{} will be checked in full", name);
        return std::nullopt;
    }
    try {
        auto resume = decode_resume_json(text, id);
        // Restoring the job leads to a save of the same data: it needs no write.
        std::lock_guard lock(mutex_);
        resume_digest_[id] = sha1(text);
        return resume;
    } catch (const std::exception& e) {
        rpc::set_aside_corrupt(file, std::string("unusable resume data: ") + e.what());
        spdlog::warn("{} will be checked in full", name);
        return std::nullopt;
    }
}

std::vector<StoredJob> JobStore::load_all() {
    std::vector<StoredJob> jobs;
    remove_temp_files(torrents_dir_);
    remove_temp_files(resume_dir_);
    std::error_code ec;
    std::vector<fs::path> files;
    for (auto& entry : fs::directory_iterator(torrents_dir_, ec))
        if (entry.path().extension() == ".torrent" || entry.path().extension() == ".magnet")
            files.push_back(entry.path());
    if (ec) spdlog::warn("cannot list {}: {}", torrents_dir_.string(), ec.message());
    std::sort(files.begin(), files.end());

    for (auto& file : files) {
        auto id = sha1_from_hex(file.stem().string());
        if (!id) {
            spdlog::warn("ignoring {}: the name is not an info-hash", file.string());
            continue;
        }
        StoredJob job;
        if (file.extension() == ".magnet") {
            if (has_torrent(*id)) continue;  // the metadata arrived: the .torrent wins
            job.magnet = load_stored_magnet(file, *id);
            if (!job.magnet) continue;
        } else {
            auto meta = load_stored_torrent(file, *id);
            if (!meta) continue;
            job.meta = std::move(*meta);
        }
        job.resume = load_resume(*id, job.magnet ? to_hex(*id) : job.meta.name);
        jobs.push_back(std::move(job));
    }
    std::stable_sort(jobs.begin(), jobs.end(), [](const StoredJob& a, const StoredJob& b) {
        return (a.resume ? a.resume->added_at : 0) < (b.resume ? b.resume->added_at : 0);
    });
    return jobs;
}

}  // namespace btd::daemon
