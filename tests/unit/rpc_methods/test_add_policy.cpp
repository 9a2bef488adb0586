// torrent.add and session.set: what a caller may ask for (download dirs, the allowed list),
// what an error may reveal (no bytes of a file that is not a torrent), and when the reply of a
// new job is sent (after the daemon stored it).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "rpc/methods/download_dir_policy.hpp"
#include "rpc/transport/errors.hpp"
#include "tests/unit/rpc_methods/rpc_harness.hpp"

using namespace btd;
using namespace btd::rpc;
using namespace btd::rpc::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json add_params(const fs::path& dir) {
    return {{"path", kSingleTorrent.string()}, {"paused", true}, {"download_dir", dir.string()}};
}

std::string message_of(const json& reply) {
    CAPTURE(reply.dump());
    REQUIRE(reply.contains("error"));
    return reply["error"]["message"].get<std::string>();
}

}  // namespace

TEST_CASE("torrent.add {path} of a file that is not a torrent names no byte of it") {
    Harness h;
    // Like /etc/shadow: each byte is distinctive, so any echo of content shows.
    for (std::string content :
         {std::string("root:$y$j9T$SECRET:19000:0:99999:7:::\n"), std::string("d4:infoi3ee"),
          std::string("\x7f"
                      "ELF\x02",
                      5),
          std::string("l5:hunter2X")}) {
        CAPTURE(content);
        auto file = h.dir / "secret-file";
        std::ofstream(file, std::ios::binary) << content;
        auto reply = h.call("torrent.add", {{"path", file.string()}});
        auto message = message_of(reply);
        CAPTURE(message);
        CHECK(reply["error"]["code"] == errc::bad_torrent);
        CHECK(message.rfind("not a valid .torrent file: ", 0) == 0);
        auto reason = message.substr(message.find(": ") + 2);
        for (auto word : {"root", "SECRET", "ELF", "hunter2", "'r'", "'X'", "0x7f"})
            CHECK(reason.find(word) == std::string::npos);
        // The same through base64 metainfo.
        auto b64 = message_of(h.call("torrent.add", {{"metainfo", base64_encode(content)}}));
        for (auto word : {"root", "SECRET", "ELF", "hunter2"})
            CHECK(b64.find(word) == std::string::npos);
    }
}

TEST_CASE("a relative or empty download_dir is refused with -32602") {
    Harness h;
    for (auto dir : {"", "relative/dir", "./x", "../up"}) {
        CAPTURE(dir);
        CHECK(h.error("torrent.add", add_params(dir)) == errc::invalid_params);
        CHECK(h.error("session.set", {{"download_dir", dir}}) == errc::invalid_params);
    }
    CHECK(h.result("torrent.list").empty());
    CHECK(h.saved_settings.empty());
    // An absolute one is fine.
    CHECK(h.result("torrent.add", add_params(h.dir / "abs"))["duplicate"] == false);
}

TEST_CASE("allowed_download_dirs limits where callers may put data") {
    Harness h([](SessionMethodsOptions& options, const fs::path& dir) {
        fs::create_directories(dir / "allowed" / "sub");
        fs::create_directories(dir / "outside");
        fs::create_directory_symlink(dir / "outside", dir / "allowed" / "escape");
        options.allowed_download_dirs = {dir / "allowed"};
    });
    auto allowed = h.dir / "allowed";
    for (auto bad : {h.dir / "outside", h.dir / "allowed-not", allowed / ".." / "outside",
                     allowed / "escape", allowed / "escape" / "deeper", fs::path("/tmp")}) {
        CAPTURE(bad);
        auto reply = h.call("torrent.add", add_params(bad));
        CHECK(reply["error"]["code"] == errc::invalid_params);
        CHECK(message_of(reply).find("allowed_download_dirs") != std::string::npos);
        CHECK(h.error("session.set", {{"download_dir", bad.string()}}) == errc::invalid_params);
    }
    CHECK(h.result("torrent.list").empty());
    CHECK(h.result("session.set", {{"download_dir", (allowed / "new").string()}})["download_dir"] ==
          (allowed / "new").string());
    CHECK(h.result("torrent.add", add_params(allowed / "sub"))["duplicate"] == false);
    CHECK(h.result("torrent.list")[0]["download_dir"] == (allowed / "sub").string());
}

TEST_CASE("path_within compares whole components") {
    CHECK(path_within("/srv/a", "/srv/a"));
    CHECK(path_within("/srv/a/b", "/srv/a"));
    CHECK_FALSE(path_within("/srv/ab", "/srv/a"));
    CHECK_FALSE(path_within("/srv", "/srv/a"));
    CHECK(path_within("/anything", "/"));
}

TEST_CASE("torrent.add replies after the daemon stored a new job, at once for a duplicate") {
    std::vector<std::function<void()>> pending;
    Harness h([&](SessionMethodsOptions& options, const fs::path&) {
        options.job_added = [&](std::function<void()> stored) { pending.push_back(stored); };
    });
    json request = {{"jsonrpc", "2.0"},
                    {"method", "torrent.add"},
                    {"params", add_params(h.dir / "dl")},
                    {"id", 1}};
    std::optional<std::string> reply;
    h.dispatcher.handle(request.dump(), [&](std::optional<std::string> r) { reply = r; });
    h.io.run_for(std::chrono::milliseconds(100));
    CHECK_FALSE(reply);  // not yet stored
    REQUIRE(pending.size() == 1);
    pending[0]();
    REQUIRE(reply);
    CHECK(json::parse(*reply)["result"]["duplicate"] == false);

    // A duplicate or an error needs nothing stored.
    CHECK(h.result("torrent.add", add_params(h.dir / "dl"))["duplicate"] == true);
    CHECK(h.error("torrent.add", add_params("rel")) == errc::invalid_params);
    CHECK(pending.size() == 1);
}
