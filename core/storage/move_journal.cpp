#include "core/storage/move_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <span>

#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace btd {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHeader = "btd-move 1";
constexpr const char* kSuffix = ".move";

std::string hex_of(const fs::path& p) {
    const auto& s = p.native();
    return to_hex(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

std::optional<fs::path> path_of_hex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    if (hex.size() % 2) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return fs::path(out);
}

// Writes `text` at the end of `path` and syncs it (and, for a new file, its directory).
void append_synced(const fs::path& path, const std::string& text, bool create) {
    int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : O_APPEND);
    int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) throw StorageError(os_error_message("write the move journal", path, errno), errno);
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (!ok) throw StorageError(os_error_message("write the move journal", path, err), err);
    if (!create) return;
    int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

// One record into `j`; false for a record that is not one (torn or foreign).
bool read_record(const std::string& line, MoveJournal& j, bool& has_from, bool& has_to) {
    auto space = line.find(' ');
    std::string key = line.substr(0, space);
    std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "commit") {
        j.committed = true;
        return true;
    }
    if (key == "mode") {
        j.copy = value == "copy";
        return j.copy || value == "rename";
    }
    auto path = path_of_hex(value);
    if (!path) return false;
    if (key == "from") {
        has_from = true;
        j.from = *path;
    } else if (key == "to") {
        has_to = true;
        j.to = *path;
    } else if (key == "file") {
        j.files.push_back(*path);
    } else if (key == "copied") {
        j.copied.insert(*path);
    } else {
        return false;
    }
    return true;
}

}  // namespace

fs::path move_journal_path(const fs::path& dir, const Sha1Hash& id) {
    if (dir.empty()) return {};
    return dir / (to_hex(id) + kSuffix);
}

std::set<Sha1Hash> find_move_journals(const fs::path& dir) {
    std::set<Sha1Hash> out;
    std::error_code ec;
    if (dir.empty()) return out;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        auto name = e.path().filename().string();
        if (e.path().extension() != kSuffix) continue;
        if (auto id = sha1_from_hex(name.substr(0, name.size() - 5))) out.insert(*id);
    }
    return out;
}

MoveJournalWriter::MoveJournalWriter(fs::path path, const MoveJournal& start)
    : path_(std::move(path)) {
    if (path_.empty()) return;
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
    std::string text = std::string(kHeader) + "\nfrom " + hex_of(start.from) + "\nto " +
                       hex_of(start.to) + "\nmode " + (start.copy ? "copy" : "rename") + "\n";
    for (const auto& f : start.files) text += "file " + hex_of(f) + "\n";
    append_synced(path_, text, true);
}

void MoveJournalWriter::copied(const fs::path& rel) {
    append("copied " + hex_of(rel));
}

void MoveJournalWriter::commit() {
    append("commit");
}

void MoveJournalWriter::append(const std::string& line) {
    if (!path_.empty()) append_synced(path_, line + "\n", false);
}

std::optional<MoveJournal> read_move_journal(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line) || line != kHeader) return std::nullopt;
    MoveJournal j;
    bool has_from = false, has_to = false;
    // Records are appended and synced one by one: a bad one can only be the last, torn by a
    // crash while it was written; what came before it stands.
    while (std::getline(in, line) && !in.eof())
        if (!read_record(line, j, has_from, has_to)) break;
    if (!has_from || !has_to) return std::nullopt;
    return j;
}

void remove_move_journal(const fs::path& path) {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
}

}  // namespace btd
