#include "core/storage/relocate.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "core/storage/move_journal.hpp"
#include "core/storage/part_store.hpp"
#include "core/storage/safe_path.hpp"
#include "core/storage/storage.hpp"

namespace btd {

namespace fs = std::filesystem;

namespace {

// Closes a descriptor when it goes out of scope.
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

// Fault injection for tests only: BTD_TEST_MOVE_DELAY_MS=N sleeps N ms after each MiB copied
// and after each original deleted, so a test can kill btd in the middle of a move.
void test_delay() {
    static const long kDelayMs = [] {
        const char* v = std::getenv("BTD_TEST_MOVE_DELAY_MS");
        return v ? std::strtol(v, nullptr, 10) : 0L;
    }();
    if (kDelayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(kDelayMs));
}

[[noreturn]] void fail(const std::string& what, const fs::path& path, int err) {
    throw StorageError(os_error_message(what, path, err), err);
}

// What kind of entry dir/rel is, without following a symlink: 0 if absent.
mode_t kind_of(const fs::path& dir, const fs::path& rel) {
    Fd parent(open_dir_nofollow(dir, rel.parent_path(), false));
    struct stat st {};
    if (parent.fd < 0 ||
        ::fstatat(parent.fd, rel.filename().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return 0;
    return st.st_mode & S_IFMT;
}

bool same_file_system(const fs::path& a, const fs::path& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev;
}

void rename_one(const fs::path& from, const fs::path& to, const fs::path& rel) {
    Fd src(open_dir_nofollow(from, rel.parent_path(), false));
    if (src.fd < 0) fail("open the folder of", from / rel, errno);
    Fd dst(open_dir_nofollow(to, rel.parent_path(), true));
    if (dst.fd < 0) fail("create the folder of", to / rel, errno);
    if (::renameat(src.fd, rel.filename().c_str(), dst.fd, rel.filename().c_str()) != 0)
        fail("move", from / rel, errno);
}

void copy_file(const fs::path& from, const fs::path& to, const fs::path& rel) {
    Fd in(open_file_nofollow(from, rel, O_RDONLY, false));
    if (in.fd < 0) fail("open", from / rel, errno);
    Fd out(open_file_nofollow(to, rel, O_WRONLY | O_CREAT | O_TRUNC, true));
    if (out.fd < 0) fail("create", to / rel, errno);
    std::vector<char> buffer(1 << 20);
    for (;;) {
        ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("read", from / rel, errno);
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(out.fd, buffer.data() + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) fail("write", to / rel, errno);
            done += w;
        }
        test_delay();
    }
    if (::fsync(out.fd) != 0) fail("sync", to / rel, errno);
}

// A directory entry (the part store) is copied file by file, one level deep.
std::vector<fs::path> expand(const fs::path& from, const fs::path& rel) {
    if (kind_of(from, rel) != S_IFDIR) return {rel};
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(from / rel, ec))
        if (e.is_regular_file(ec) && !e.is_symlink(ec)) out.push_back(rel / e.path().filename());
    return out;
}

// Empty directories btd made under `dir` for these paths, deepest first (others are kept).
void remove_empty_dirs(const fs::path& dir, const std::vector<fs::path>& rels) {
    std::set<fs::path> dirs;
    for (const auto& rel : rels)
        for (fs::path d = rel.parent_path(); !d.empty(); d = d.parent_path()) dirs.insert(d);
    std::vector<fs::path> ordered(dirs.begin(), dirs.end());
    auto depth = [](const fs::path& p) { return std::distance(p.begin(), p.end()); };
    std::stable_sort(ordered.begin(), ordered.end(),
                     [&](const fs::path& a, const fs::path& b) { return depth(a) > depth(b); });
    for (const auto& d : ordered) unlink_nofollow(dir, d, true);
}

void rename_all(const fs::path& from, const fs::path& to, const std::vector<fs::path>& rels) {
    std::vector<fs::path> done;
    try {
        for (const auto& rel : rels) {
            rename_one(from, to, rel);
            done.push_back(rel);
        }
    } catch (...) {
        for (const auto& rel : done) {
            try {
                rename_one(to, from, rel);
            } catch (...) {  // the first error is the one to report
            }
        }
        remove_empty_dirs(to, done);
        throw;
    }
}

void delete_originals(const fs::path& from, const std::vector<fs::path>& files) {
    for (const auto& f : files) {
        unlink_nofollow(from, f, false);
        test_delay();
    }
    remove_empty_dirs(from, files);
}

void copy_all(const fs::path& from, const fs::path& to, const std::vector<fs::path>& rels,
              const fs::path& journal_path) {
    std::vector<fs::path> files;
    for (const auto& rel : rels)
        for (auto& f : expand(from, rel)) files.push_back(std::move(f));
    MoveJournalWriter journal(journal_path, {from, to, true, files, {}, false});
    std::vector<fs::path> copied;
    try {
        for (const auto& f : files) {
            copied.push_back(f);
            copy_file(from, to, f);
            journal.copied(f);
        }
        // Every copy is whole and synced: only now may the originals go.
        journal.commit();
    } catch (...) {
        for (const auto& f : copied) unlink_nofollow(to, f, false);
        remove_empty_dirs(to, copied);
        remove_move_journal(journal_path);
        throw;
    }
    delete_originals(from, files);
    for (const auto& rel : rels)
        if (kind_of(from, rel) == S_IFDIR) unlink_nofollow(from, rel, true);
}

}  // namespace

std::vector<fs::path> data_paths(const Metainfo& meta) {
    std::vector<fs::path> out;
    for (const auto& f : meta.files)
        if (!f.pad && f.length > 0) out.push_back(f.path.lexically_normal());
    out.emplace_back(PartStore::dir_name(meta.info_hash));
    return out;
}

void move_torrent_data(const Metainfo& meta, const fs::path& from, const fs::path& to,
                       const fs::path& journal_path) {
    std::error_code ec;
    fs::create_directories(to, ec);
    if (ec || !fs::is_directory(to)) fail("create", to, ec ? ec.value() : ENOTDIR);
    if (fs::equivalent(from, to, ec)) return;
    std::vector<fs::path> present;
    for (auto& rel : data_paths(meta)) {
        checked_relative_path(from, rel);  // throws for a path leaving the directory
        mode_t kind = kind_of(from, rel);
        if (kind == S_IFREG || kind == S_IFDIR) present.push_back(std::move(rel));
    }
    if (same_file_system(from, to)) {
        MoveJournalWriter journal(journal_path, {from, to, false, present, {}, false});
        try {
            rename_all(from, to, present);
        } catch (...) {
            remove_move_journal(journal_path);
            throw;
        }
        remove_empty_dirs(from, present);
    } else {
        copy_all(from, to, present, journal_path);
    }
}

namespace {

// The rest of an interrupted move, forward: what is still at `from` goes to `to`. A committed
// copy's originals are deleted only once every one of them is known to have its copy.
void finish_move(const MoveJournal& j, std::string& log) {
    std::vector<fs::path> left;
    for (const auto& rel : j.files)
        if (kind_of(j.from, rel) != 0) left.push_back(rel);
    if (j.copy) {
        for (const auto& rel : left)
            if (kind_of(j.to, rel) != S_IFREG)
                throw StorageError("the copy of " + rel.string() + " is missing in " +
                                   j.to.string() + "; the data stays in " + j.from.string());
        for (const auto& rel : left) unlink_nofollow(j.from, rel, false);
    } else {
        for (const auto& rel : left) rename_one(j.from, j.to, rel);
    }
    remove_empty_dirs(j.from, j.files);
    log = "finished the interrupted move to " + j.to.string() + " (" + std::to_string(left.size()) +
          " of " + std::to_string(j.files.size()) + " files were left)";
}

// An interrupted copy, undone: the copies go, the originals (all still there) stay.
void undo_copy(const MoveJournal& j, std::string& log) {
    for (const auto& rel : j.files) unlink_nofollow(j.to, rel, false);
    remove_empty_dirs(j.to, j.files);
    log = "undid the interrupted move to " + j.to.string() + " (" +
          std::to_string(j.copied.size()) + " of " + std::to_string(j.files.size()) +
          " files were copied); the data stays in " + j.from.string();
}

}  // namespace

fs::path recover_move(const fs::path& path, const fs::path& dir, std::string& log) {
    auto journal = read_move_journal(path);
    fs::path now = dir;
    try {
        if (!journal) {
            log = "ignored an unreadable move journal";
        } else if (dir == journal->to) {
            if (journal->copy && journal->committed) finish_move(*journal, log);
        } else if (dir != journal->from) {
            log = "ignored a move journal for " + journal->from.string() + " -> " +
                  journal->to.string() + ": the data is looked for in " + dir.string();
        } else if (!journal->copy || journal->committed) {
            finish_move(*journal, log);
            now = journal->to;
        } else {
            undo_copy(*journal, log);
        }
    } catch (const std::exception& e) {
        log = std::string("could not finish an interrupted move: ") + e.what();
        return now;  // the journal stays: the next start tries again
    }
    remove_move_journal(path);
    return now;
}

}  // namespace btd
