#include "daemon/watch_dir.hpp"

#include <spdlog/spdlog.h>

#include "core/util/ascii.hpp"
#include "rpc/transport/errors.hpp"
#include "rpc/transport/safe_file.hpp"

namespace btd::daemon {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxMagnetBytes = 64 * 1024;

bool ends_with_ci(std::string_view name, std::string_view suffix) {
    return name.size() > suffix.size() &&
           ascii_lower(name.substr(name.size() - suffix.size())) == suffix;
}

struct Scan {
    std::vector<WatchEntry> entries;
    std::string error;
};

// Disk pool: the regular files with a watched name (symlinks and directories are left alone).
Scan list_dir(const fs::path& dir) {
    Scan out;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return {{}, "cannot read watch_dir " + dir.string() + ": " + ec.message()};
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) return {{}, "cannot read watch_dir " + dir.string() + ": " + ec.message()};
        auto name = it->path().filename().string();
        if (!is_watched_name(name) || !it->is_regular_file(ec) || it->is_symlink(ec)) continue;
        auto size = fs::file_size(it->path(), ec);
        if (ec) continue;
        auto mtime = fs::last_write_time(it->path(), ec);
        if (ec) continue;
        out.entries.push_back({name, static_cast<std::int64_t>(size),
                               static_cast<std::int64_t>(mtime.time_since_epoch().count())});
    }
    return out;
}

// Disk pool: renames to .added/.invalid or removes; returns an error text, empty on success.
std::string settle_file(const fs::path& file, const std::string& suffix) {
    std::error_code ec;
    if (suffix.empty())
        fs::remove(file, ec);
    else
        fs::rename(file, fs::path(file.string() + suffix), ec);
    return ec ? ec.message() : "";
}

}  // namespace

bool is_watched_name(std::string_view name) {
    if (name.empty() || name.front() == '.') return false;
    return ends_with_ci(name, ".torrent") || ends_with_ci(name, ".magnet");
}

std::vector<std::string> StableFiles::update(const std::vector<WatchEntry>& scan) {
    std::vector<std::string> stable;
    std::map<std::string, WatchEntry> now;
    for (const auto& entry : scan) {
        auto before = last_.find(entry.name);
        if (before != last_.end() && before->second == entry) stable.push_back(entry.name);
        now.emplace(entry.name, entry);
    }
    last_ = std::move(now);
    return stable;
}

AddOutcome::Kind outcome_for_error(int code) {
    switch (code) {
        case rpc::errc::bad_torrent:
        case rpc::errc::invalid_params:
        case rpc::errc::not_supported:
        case rpc::errc::fetch_failed:
            return AddOutcome::Kind::invalid;
        default:
            return AddOutcome::Kind::retry;
    }
}

WatchDir::WatchDir(boost::asio::io_context& io, Session& session, Options options, AddCall add)
    : session_(session), options_(std::move(options)), add_(std::move(add)), timer_(io) {}

WatchDir::~WatchDir() {
    try {
        stop();
    } catch (const std::exception& e) {  // a destructor must not throw
        spdlog::warn("stopping the watch directory: {}", e.what());
    }
}

void WatchDir::start() {
    spdlog::info("watching {} for .torrent and .magnet files", options_.dir.string());
    scan();
}

void WatchDir::stop() {
    *alive_ = false;
    timer_.cancel();
}

void WatchDir::schedule() {
    if (!*alive_) return;
    timer_.expires_after(options_.interval);
    timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (!ec && *alive) scan();
    });
}

void WatchDir::scan() {
    auto result = std::make_shared<Scan>();
    session_.run_on_disk([result, dir = options_.dir] { *result = list_dir(dir); },
                         [this, result, alive = alive_] {
                             if (*alive) on_scan(std::move(result->entries), result->error);
                         });
}

void WatchDir::on_scan(std::vector<WatchEntry> entries, std::string error) {
    if (error != last_error_ && !error.empty()) spdlog::warn("{}", error);
    last_error_ = error;
    auto now = std::chrono::steady_clock::now();
    for (const auto& name : stable_.update(entries)) {
        if (in_flight_.count(name)) continue;
        auto retry = retry_at_.find(name);
        if (retry != retry_at_.end() && now < retry->second) continue;
        retry_at_.erase(name);
        take(name);
    }
    schedule();
}

// A .torrent goes to torrent.add as a path (read on the disk pool there); a .magnet's text is
// read here, on the disk pool, and given as the uri.
void WatchDir::take(const std::string& name) {
    in_flight_.insert(name);
    auto file = options_.dir / name;
    if (ends_with_ci(name, ".torrent")) return add_with(name, {{"path", file.string()}});
    struct Read {
        std::string text, error;
    };
    auto read = std::make_shared<Read>();
    session_.run_on_disk(
        [read, file] {
            try {
                read->text =
                    std::string(trim_blanks(rpc::read_regular_file(file, kMaxMagnetBytes)));
            } catch (const std::exception& e) {
                read->error = e.what();
            }
        },
        [this, read, name, alive = alive_] {
            if (!*alive) return;
            if (!read->error.empty()) return finish(name, {AddOutcome::Kind::retry, read->error});
            if (read->text.rfind("magnet:", 0) != 0)
                return finish(name, {AddOutcome::Kind::invalid, "does not hold a magnet: link"});
            add_with(name, {{"uri", read->text}});
        });
}

void WatchDir::add_with(const std::string& name, json params) {
    add_(std::move(params), [this, name, alive = alive_](AddOutcome outcome) {
        if (*alive) finish(name, outcome);
    });
}

void WatchDir::finish(const std::string& name, const AddOutcome& outcome) {
    using Kind = AddOutcome::Kind;
    auto file = options_.dir / name;
    if (outcome.kind == Kind::retry) {
        spdlog::warn(
            "watch dir: cannot add {} now: {}; trying again in {} s", file.string(),
            outcome.message,
            std::chrono::duration_cast<std::chrono::seconds>(options_.retry_after).count());
        retry_at_[name] = std::chrono::steady_clock::now() + options_.retry_after;
        in_flight_.erase(name);
        return;
    }
    std::string suffix = outcome.kind == Kind::invalid ? ".invalid"
                         : options_.delete_added       ? ""
                                                       : ".added";
    if (outcome.kind == Kind::invalid)
        spdlog::error("watch dir: {} is not usable: {}; renamed to {}.invalid", file.string(),
                      outcome.message, name);
    else
        spdlog::info("watch dir: {} {} from {}",
                     outcome.kind == Kind::duplicate ? "already have" : "added", outcome.message,
                     file.string());
    auto error = std::make_shared<std::string>();
    session_.run_on_disk(
        [error, file, suffix] { *error = settle_file(file, suffix); },
        [this, error, name, file, alive = alive_] {
            if (!*alive) return;
            in_flight_.erase(name);
            if (error->empty()) return;
            spdlog::error("watch dir: cannot rename or remove {}: {}", file.string(), *error);
            // Not again at the next scan: once per retry_after at most.
            retry_at_[name] = std::chrono::steady_clock::now() + options_.retry_after;
        });
}

}  // namespace btd::daemon
