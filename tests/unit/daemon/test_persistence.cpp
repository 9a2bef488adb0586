#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "daemon/atomic_file.hpp"
#include "daemon/job_store.hpp"
#include "daemon/resume_json.hpp"
#include "daemon/torrent_file.hpp"

using namespace btd;
using namespace btd::daemon;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        auto pattern = (fs::temp_directory_path() / "btd-daemon-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out << bytes;
}

// Files named <file>.corrupt-* next to `file`.
int set_aside_copies(const fs::path& file) {
    int n = 0;
    auto prefix = file.filename().string() + ".corrupt-";
    for (auto& e : fs::directory_iterator(file.parent_path()))
        n += e.path().filename().string().rfind(prefix, 0) == 0;
    return n;
}

ResumeData sample_resume() {
    ResumeData d;
    d.have = "101";
    d.files = {{100, 1700000000}, {-1, 0}, {0, 5}};
    d.paused = true;
    d.total_downloaded = 12345;
    d.total_uploaded = 678;
    d.added_at = 1690000000;
    d.download_dir = "/srv/downloads";
    return d;
}

Metainfo sample_torrent() {
    return load_metainfo_file(fs::path(BTD_TEST_DATA_DIR) / "lt_multi_v1.torrent");
}

}  // namespace

TEST_CASE("atomic write: creates, replaces, sets the mode, leaves no temp file") {
    TempDir dir;
    auto file = dir.path / "x.json";
    write_file_atomic(file, "first", 0600);
    CHECK(slurp(file) == "first");
    write_file_atomic(file, std::string(100000, 'z'), 0600);
    CHECK(slurp(file) == std::string(100000, 'z'));
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
    CHECK(read_file_limited(file, 100000).size() == 100000);
    CHECK_THROWS(read_file_limited(file, 99999));
}

TEST_CASE("atomic write: failure is reported and the old file survives") {
    TempDir dir;
    CHECK_THROWS_AS(write_file_atomic(dir.path / "missing" / "x", "a"), std::system_error);
    auto file = dir.path / "keep";
    write_file_atomic(file, "old");
    fs::create_directory(dir.path / "keep.tmp");  // the temp name is taken by a directory
    CHECK_THROWS(write_file_atomic(file, "new"));
    CHECK(slurp(file) == "old");
    remove_file_durably(file);
    CHECK_FALSE(fs::exists(file));
    CHECK_NOTHROW(remove_file_durably(file));  // absent is fine
}

TEST_CASE("resume JSON round trip") {
    Sha1Hash id{};
    id[0] = 0xab;
    auto d = sample_resume();
    auto back = decode_resume_json(encode_resume_json(id, d), id);
    CHECK(back.have == d.have);
    REQUIRE(back.files.size() == 3);
    CHECK(back.files[0].size == 100);
    CHECK(back.files[0].mtime == 1700000000);
    CHECK(back.files[1].size == -1);
    CHECK(back.paused);
    CHECK(back.total_downloaded == 12345);
    CHECK(back.total_uploaded == 678);
    CHECK(back.added_at == 1690000000);
    CHECK(back.download_dir == "/srv/downloads");
}

TEST_CASE("resume JSON keeps each file's inode and nanoseconds; older data leaves them unknown") {
    Sha1Hash id{};
    auto d = sample_resume();
    d.files[0].inode = 123456789;
    d.files[0].mtime_ns = 987654321;
    auto back = decode_resume_json(encode_resume_json(id, d), id);
    CHECK(back.files[0].inode == 123456789);
    CHECK(back.files[0].mtime_ns == 987654321);
    auto text = encode_resume_json(id, sample_resume());
    for (const char* key : {"\"inode\": 0,", "\"mtime_ns\": -1,"})
        for (auto at = text.find(key); at != std::string::npos; at = text.find(key))
            text.erase(at, std::string(key).size());
    auto old = decode_resume_json(text, id);
    CHECK(old.files[0].inode == 0);
    CHECK(old.files[0].mtime_ns == -1);
}

TEST_CASE("resume JSON: a download dir that is not UTF-8 survives") {
    Sha1Hash id{};
    auto d = sample_resume();
    d.download_dir = std::string("/srv/\xff\xfe-dir");
    auto text = encode_resume_json(id, d);
    CHECK(text.find("download_dir_hex") != std::string::npos);
    CHECK(decode_resume_json(text, id).download_dir == d.download_dir);
}

TEST_CASE("resume JSON: corrupt input is rejected with a reason") {
    Sha1Hash id{}, other{};
    other[19] = 1;
    auto good = encode_resume_json(id, sample_resume());
    auto reason = [&](std::string text, const Sha1Hash& expect) -> std::string {
        try {
            decode_resume_json(text, expect);
        } catch (const ResumeFormatError& e) {
            return e.what();
        }
        return "";
    };
    auto replace = [&](std::string from, std::string to) {
        auto s = good;
        auto at = s.find(from);
        REQUIRE(at != std::string::npos);
        return s.replace(at, from.size(), to);
    };
    CHECK(reason(good, id) == "");
    CHECK(reason(good, other).find("another torrent") != std::string::npos);
    CHECK(reason(good.substr(0, good.size() / 2), id) == "not valid JSON");
    CHECK(reason("[]", id) == "not a JSON object");
    CHECK(reason("", id) == "not valid JSON");
    CHECK(reason(replace("\"101\"", "\"1x1\""), id).find("'have'") != std::string::npos);
    CHECK(reason(replace("\"version\": 1", "\"version\": 9"), id).find("version") !=
          std::string::npos);
    CHECK(reason(replace("\"paused\": true", "\"paused\": 1"), id).find("paused") !=
          std::string::npos);
    CHECK(reason(replace("\"/srv/downloads\"", "\"relative\""), id).find("absolute") !=
          std::string::npos);
    CHECK(reason(replace("\"total_uploaded\": 678", "\"total_uploaded\": -2"), id) != "");
}

TEST_CASE("stored .torrent has the same info-hash and trackers") {
    auto meta = sample_torrent();
    meta.announce_tiers = {{"http://a/announce", "http://b/announce"}, {"udp://c:1/announce"}};
    meta.comment = "hello";
    auto bytes = encode_torrent_file(meta);
    auto back = parse_metainfo(bytes);
    CHECK(back.info_hash == meta.info_hash);
    CHECK(back.announce_tiers == meta.announce_tiers);
    CHECK(back.comment == "hello");
    CHECK(back.raw_info == meta.raw_info);

    meta.announce_tiers.clear();  // trackerless is valid too
    CHECK(parse_metainfo(encode_torrent_file(meta)).info_hash == meta.info_hash);
}

TEST_CASE("job store: save, load, remove") {
    TempDir dir;
    JobStore store(dir.path);
    store.prepare();
    auto meta = sample_torrent();
    auto id = meta.info_hash;
    CHECK_FALSE(store.has_torrent(id));
    store.save_torrent(id, encode_torrent_file(meta));
    CHECK_FALSE(store.has_torrent(id));  // staged until commit()
    store.commit();
    CHECK(store.has_torrent(id));
    auto jobs = store.load_all();
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].meta.info_hash == id);
    CHECK_FALSE(jobs[0].resume);

    store.save_resume(id, sample_resume());
    store.commit();
    jobs = store.load_all();
    REQUIRE(jobs.size() == 1);
    REQUIRE(jobs[0].resume);
    CHECK(jobs[0].resume->have == "101");

    store.remove(id);
    CHECK(store.load_all().empty());
    CHECK_FALSE(fs::exists(store.resume_path(id)));
}

TEST_CASE("job store: corrupt files are skipped or dropped, never fatal") {
    TempDir dir;
    JobStore store(dir.path);
    store.prepare();
    auto meta = sample_torrent();
    store.save_torrent(meta.info_hash, encode_torrent_file(meta));
    store.commit();
    spit(store.resume_path(meta.info_hash), "{\"version\": 1, \"have\": ");  // torn write

    Sha1Hash junk_id{};
    junk_id[0] = 1;
    spit(store.torrent_path(junk_id), "d4:infoi3ee");  // not a valid torrent
    Sha1Hash wrong_id{};
    wrong_id[0] = 2;
    spit(store.torrent_path(wrong_id), encode_torrent_file(meta));  // name != info-hash
    spit(dir.path / "torrents" / "notahash.torrent", encode_torrent_file(meta));
    spit(dir.path / "torrents" / "leftover.torrent.tmp", "x");

    std::vector<StoredJob> jobs;
    REQUIRE_NOTHROW(jobs = store.load_all());
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].meta.info_hash == meta.info_hash);
    CHECK_FALSE(jobs[0].resume);  // unusable: the engine re-checks everything
    CHECK_FALSE(fs::exists(dir.path / "torrents" / "leftover.torrent.tmp"));
    // Corrupt files are set aside for the user to inspect, so the next start is clean.
    CHECK_FALSE(fs::exists(store.torrent_path(junk_id)));
    CHECK_FALSE(fs::exists(store.torrent_path(wrong_id)));
    CHECK(set_aside_copies(store.torrent_path(junk_id)) == 1);
    CHECK(set_aside_copies(store.torrent_path(wrong_id)) == 1);
    CHECK(set_aside_copies(store.resume_path(meta.info_hash)) == 1);
    CHECK(fs::exists(dir.path / "torrents" / "notahash.torrent"));  // not ours: left alone
}

TEST_CASE("job store: one bad resume file costs only that job's resume data") {
    TempDir dir;
    JobStore store(dir.path);
    store.prepare();
    auto multi = sample_torrent();
    auto single = load_metainfo_file(fs::path(BTD_TEST_DATA_DIR) / "lt_single.torrent");
    for (auto* meta : {&multi, &single}) {
        store.save_torrent(meta->info_hash, encode_torrent_file(*meta));
        auto resume = sample_resume();
        resume.have = std::string(static_cast<std::size_t>(meta->num_pieces()), '1');
        store.save_resume(meta->info_hash, resume);
    }
    store.commit();
    // Deep nesting (a stack overflow for a recursive parser) and a FIFO (a hang for open()).
    spit(store.resume_path(multi.info_hash), std::string(100000, '[') + std::string(100000, ']'));
    fs::remove(store.resume_path(single.info_hash));
    REQUIRE(::mkfifo(store.resume_path(single.info_hash).c_str(), 0600) == 0);
    auto jobs = store.load_all();
    REQUIRE(jobs.size() == 2);
    for (auto& job : jobs) CHECK_FALSE(job.resume);
    CHECK(set_aside_copies(store.resume_path(multi.info_hash)) == 1);
    CHECK(set_aside_copies(store.resume_path(single.info_hash)) == 1);

    // A garbage job list entry costs only that job.
    store.save_resume(single.info_hash, sample_resume());
    store.commit();
    spit(store.torrent_path(multi.info_hash), "garbage");
    jobs = store.load_all();
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].meta.info_hash == single.info_hash);
    CHECK(jobs[0].resume);
}

TEST_CASE("job store: a file where a job folder belongs is set aside") {
    TempDir dir;
    spit(dir.path / "torrents", "not a folder");
    JobStore store(dir.path);
    REQUIRE_NOTHROW(store.prepare());
    CHECK(fs::is_directory(dir.path / "torrents"));
    CHECK(set_aside_copies(dir.path / "torrents") == 1);
    CHECK(store.load_all().empty());
}

TEST_CASE("resume JSON: labels round trip; none written when there are none; bad ones rejected") {
    Sha1Hash id{};
    auto d = sample_resume();
    CHECK(encode_resume_json(id, d).find("labels") == std::string::npos);
    d.labels = {"tv", "séries HD"};
    auto text = encode_resume_json(id, d);
    CHECK(decode_resume_json(text, id).labels == d.labels);
    auto with = [&](const std::string& labels) {
        auto s = text;
        auto at = s.find("\"labels\"");
        REQUIRE(at != std::string::npos);
        auto end = s.find(']', at);
        return s.replace(at, end + 1 - at, "\"labels\": " + labels);
    };
    auto reason = [&](const std::string& t) -> std::string {
        try {
            decode_resume_json(t, id);
        } catch (const ResumeFormatError& e) {
            return e.what();
        }
        return "";
    };
    CHECK(reason(with("\"tv\"")).find("'labels' is not an array") != std::string::npos);
    CHECK(reason(with("[1]")).find("not a string") != std::string::npos);
    CHECK(reason(with("[\"a,b\"]")).find("comma") != std::string::npos);
    CHECK(reason(with("[\"\"]")).find("empty") != std::string::npos);
    CHECK(decode_resume_json(with("[\"tv\", \"tv\"]"), id).labels ==
          std::vector<std::string>{"tv"});
}
