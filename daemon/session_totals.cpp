#include "daemon/session_totals.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "daemon/atomic_file.hpp"
#include "rpc/transport/json_parse.hpp"
#include "rpc/transport/safe_file.hpp"

namespace btd::daemon {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxTotalsBytes = 64 * 1024;
constexpr std::size_t kMaxTotalsDepth = 4;

// The file's keys are Transmission's stats.json names.
struct Key {
    const char* name;
    std::int64_t rpc::SessionTotals::*field;
};
constexpr Key kKeys[] = {{"uploaded-bytes", &rpc::SessionTotals::uploaded},
                         {"downloaded-bytes", &rpc::SessionTotals::downloaded},
                         {"files-added", &rpc::SessionTotals::files_added},
                         {"session-count", &rpc::SessionTotals::session_count},
                         {"seconds-active", &rpc::SessionTotals::seconds_active}};

}  // namespace

std::optional<rpc::SessionTotals> parse_session_totals(std::string_view text) {
    auto j = rpc::parse_json_limited(text, kMaxTotalsDepth);
    if (!j || !j->is_object()) return std::nullopt;
    rpc::SessionTotals t;
    for (const auto& key : kKeys) {
        auto it = j->find(key.name);
        if (it == j->end()) continue;  // an older file: zero
        if (!it->is_number_integer() || it->get<std::int64_t>() < 0) return std::nullopt;
        t.*key.field = it->get<std::int64_t>();
    }
    return t;
}

std::string session_totals_json(const rpc::SessionTotals& t) {
    json j = json::object();
    for (const auto& key : kKeys) j[key.name] = t.*key.field;
    return j.dump(1) + "\n";
}

rpc::SessionTotals load_session_totals(const std::filesystem::path& state_dir) {
    auto file = state_dir / kSessionTotalsFile;
    try {
        if (auto t = parse_session_totals(rpc::read_regular_file(file, kMaxTotalsBytes))) return *t;
        rpc::set_aside_corrupt(file, "not a JSON object of non-negative whole numbers");
    } catch (const rpc::StateFileError& e) {
        using Kind = rpc::StateFileError::Kind;
        if (e.kind() == Kind::unreadable)
            spdlog::warn("cannot use {}; session totals start from zero", e.what());
        else if (e.kind() != Kind::missing)
            rpc::set_aside_corrupt(file, e.what());
    }
    return {};
}

void save_session_totals(const std::filesystem::path& state_dir, const rpc::SessionTotals& t) {
    write_file_atomic(state_dir / kSessionTotalsFile, session_totals_json(t), 0600);
}

void SessionCounter::observe(const Sha1Hash& id, std::int64_t downloaded, std::int64_t uploaded) {
    auto [it, first] = seen_.try_emplace(id, Seen{downloaded, uploaded});
    if (first) return;
    // Totals only grow; a smaller one (a job added again) is a new baseline.
    current_.downloaded += std::max<std::int64_t>(0, downloaded - it->second.downloaded);
    current_.uploaded += std::max<std::int64_t>(0, uploaded - it->second.uploaded);
    it->second = {downloaded, uploaded};
}

rpc::SessionTotalsPair SessionCounter::totals(Clock::time_point now) const {
    rpc::SessionTotalsPair out;
    out.current = current_;
    out.current.session_count = 1;
    out.current.seconds_active =
        std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
    out.cumulative = earlier_;
    out.cumulative.uploaded += out.current.uploaded;
    out.cumulative.downloaded += out.current.downloaded;
    out.cumulative.files_added += out.current.files_added;
    out.cumulative.session_count += 1;
    out.cumulative.seconds_active += out.current.seconds_active;
    return out;
}

}  // namespace btd::daemon
