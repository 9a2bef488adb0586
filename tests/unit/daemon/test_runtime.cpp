#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "daemon/resume_saver.hpp"
#include "daemon/runtime_settings.hpp"
#include "daemon/serial_worker.hpp"
#include "daemon/systemd_notify.hpp"

using namespace btd;
using namespace btd::daemon;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("runtime overrides hold only what differs from the config") {
    SessionSettings base;
    base.download_rate_limit = 100;
    auto now = base;
    CHECK(runtime_overrides(base, now).empty());
    now.download_rate_limit = 5000;
    now.default_download_dir = "/elsewhere";
    auto o = runtime_overrides(base, now);
    CHECK(o == json{{"download_rate_limit", 5000}, {"download_dir", "/elsewhere"}});

    auto applied = apply_overrides(base, o);
    CHECK(applied.download_rate_limit == 5000);
    CHECK(applied.default_download_dir == "/elsewhere");
    CHECK(applied.upload_rate_limit == base.upload_rate_limit);
}

TEST_CASE("runtime overrides: bad entries are skipped") {
    SessionSettings base;
    auto s = apply_overrides(base, json{{"listen_port", 70000},
                                        {"download_rate_limit", "fast"},
                                        {"max_peers_per_torrent", 7},
                                        {"nonsense", 1}});
    CHECK(s.listen_port == base.listen_port);
    CHECK(s.download_rate_limit == base.download_rate_limit);
    CHECK(s.max_peers_per_torrent == 7);
    CHECK(apply_overrides(base, json::array()).max_peers_per_torrent == base.max_peers_per_torrent);
}

TEST_CASE("reload: a key changed in the config file replaces its runtime override") {
    SessionSettings old_base, new_base;
    new_base.upload_rate_limit = 42;  // edited in the file
    json overrides = {{"upload_rate_limit", 7}, {"download_rate_limit", 9}};
    auto dropped = drop_overrides_changed_in_config(overrides, old_base, new_base);
    CHECK(dropped == std::vector<std::string>{"upload_rate_limit"});
    CHECK(overrides == json{{"download_rate_limit", 9}});
}

TEST_CASE("session.set: a moved listen port is kept, the port got for 0 is not") {
    SessionSettings base;  // the config: port 6881
    auto now = base;
    now.listen_port = 7000;  // session.set moved it
    auto o = overrides_after_set(json::object(), base, now, 6881);
    CHECK(o == json{{"listen_port", 7000}});
    CHECK(apply_overrides(base, o).listen_port == 7000);  // what the next start uses

    now.download_rate_limit = 10;  // a later change of something else keeps the port
    CHECK(overrides_after_set(o, base, now, 7000) ==
          json{{"listen_port", 7000}, {"download_rate_limit", 10}});
    now.listen_port = 6881;  // moved back to the config's port: no override left
    CHECK(overrides_after_set(o, base, now, 7000) == json{{"download_rate_limit", 10}});

    base.listen_port = 0;  // config: any port; the session got 40001 and reports it
    now = base;
    now.listen_port = 40001;
    now.upload_rate_limit = 5;
    CHECK(overrides_after_set(json::object(), base, now, 40001) == json{{"upload_rate_limit", 5}});
    now.listen_port = 40002;  // session.set moved it
    CHECK(overrides_after_set(json::object(), base, now, 40001) ==
          json{{"listen_port", 40002}, {"upload_rate_limit", 5}});
}

TEST_CASE("runtime overrides: file round trip and corrupt file") {
    auto dir = std::filesystem::temp_directory_path() / "btd-runtime-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    CHECK(load_runtime_overrides(dir).empty());
    save_runtime_overrides(dir, json{{"download_rate_limit", 1}});
    CHECK(load_runtime_overrides(dir) == json{{"download_rate_limit", 1}});
    std::ofstream(dir / kRuntimeSettingsFile) << "{broken";
    CHECK(load_runtime_overrides(dir).empty());
    std::filesystem::remove_all(dir);
}

namespace {

int corrupt_copies(const std::filesystem::path& dir) {
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator(dir))
        n += e.path().filename().string().rfind("settings.json.corrupt-", 0) == 0;
    return n;
}

}  // namespace

TEST_CASE("settings.json: deep nesting, a FIFO or garbage is set aside, the start goes on") {
    auto dir = std::filesystem::temp_directory_path() / "btd-runtime-deep-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto file = dir / kRuntimeSettingsFile;
    // Deep enough to overflow the stack when nlohmann dumps or destroys it.
    std::string deep =
        R"({"download_rate_limit":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
    std::ofstream(file) << deep;
    CHECK(load_runtime_overrides(dir).empty());
    CHECK_FALSE(std::filesystem::exists(file));
    CHECK(corrupt_copies(dir) == 1);

    std::ofstream(file) << "[1, 2]";  // valid JSON, not an object
    CHECK(load_runtime_overrides(dir).empty());
    CHECK(corrupt_copies(dir) == 2);

    REQUIRE(::mkfifo(file.c_str(), 0600) == 0);
    auto start = std::chrono::steady_clock::now();
    CHECK(load_runtime_overrides(dir).empty());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(corrupt_copies(dir) == 3);

    CHECK(parse_runtime_overrides(R"({"a":{"b":1}})"));
    CHECK_FALSE(parse_runtime_overrides(std::string(20, '[') + std::string(20, ']')));
    std::filesystem::remove_all(dir);
}

TEST_CASE("save_due: debounce, periodic saves, never while checking or saving") {
    SaveTiming t;  // 5 s after a change, 30 s for pieces only
    auto start = std::chrono::steady_clock::now();
    SaveState s;
    s.last_save = start;
    CHECK_FALSE(save_due(s, start + 1h, t));  // nothing to save
    s.urgent = true;
    CHECK_FALSE(save_due(s, start + 4s, t));
    CHECK(save_due(s, start + 5s, t));
    s.checking = true;
    CHECK_FALSE(save_due(s, start + 1h, t));
    s.checking = false;
    s.saving = true;
    CHECK_FALSE(save_due(s, start + 1h, t));
    s = SaveState{};
    s.last_save = start;
    s.dirty = true;
    CHECK_FALSE(save_due(s, start + 29s, t));
    CHECK(save_due(s, start + 30s, t));
    SaveState never_saved;
    never_saved.urgent = true;
    CHECK(save_due(never_saved, start, t));
}

TEST_CASE("serial worker runs tasks in order and survives a throwing task") {
    std::vector<int> seen;
    {
        SerialWorker worker;
        for (int i = 0; i < 100; ++i) {
            worker.post([&seen, i] {
                if (i == 50) throw std::runtime_error("boom");
                seen.push_back(i);
            });
        }
        worker.drain();
        CHECK(seen.size() == 99);
        worker.post([&seen] {
            std::this_thread::sleep_for(20ms);
            seen.push_back(1000);
        });
    }  // the destructor finishes queued work
    REQUIRE(seen.size() == 100);
    CHECK(seen.back() == 1000);
    for (std::size_t i = 1; i + 1 < seen.size(); ++i) CHECK(seen[i - 1] < seen[i]);
}

TEST_CASE("status summary") {
    SessionStats s;
    CHECK(status_summary(s) == "0 torrents, 0.0 MiB/s down, 0.0 MiB/s up");
    s.torrents = 3;
    s.by_state = {{"downloading", 1}, {"seeding", 2}};
    s.download_rate = 2202010;  // 2.1 MiB/s
    CHECK(status_summary(s) ==
          "3 torrents, 1 downloading, 2 seeding, 2.1 MiB/s down, 0.0 MiB/s up");
}
