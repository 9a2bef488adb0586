// The torrent.*, session.* and daemon.* methods against a real Session on 127.0.0.1.
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <fstream>

#include "tests/unit/rpc_methods/rpc_harness.hpp"

using namespace btd;
using namespace btd::rpc;
using nlohmann::json;
using namespace btd::rpc::testing;
namespace fs = std::filesystem;

namespace {

const std::string kMultiId = "46a3342638698392a696662409e7e0757308590b";
const fs::path kMultiTorrent = fs::path(BTD_TEST_DATA_DIR) / "lt_multi_v1.torrent";

}  // namespace

TEST_CASE("daemon.version") {
    Harness h;
    auto v = h.result("daemon.version");
    CHECK(v["name"] == "btd");
    CHECK(v["version"].is_string());
}

TEST_CASE("torrent.add from base64 metainfo, then as a duplicate") {
    Harness h;
    auto added = h.add_single();
    CHECK(added["id"] == kSingleId);
    CHECK(added["name"] == "lt_single");
    CHECK(added["duplicate"] == false);
    auto again = h.result("torrent.add", {{"path", kSingleTorrent.string()}});
    CHECK(again["id"] == kSingleId);
    CHECK(again["duplicate"] == true);
}

TEST_CASE("torrent.add refuses what it cannot use, with actionable errors") {
    Harness h;
    CHECK(h.error("torrent.add", {{"metainfo", "not base64!"}}) == errc::invalid_params);
    auto garbage = h.call("torrent.add", {{"metainfo", base64_encode("this is not bencode")}});
    CHECK(garbage["error"]["code"] == errc::bad_torrent);
    CHECK(garbage["error"]["message"].get<std::string>().rfind("not a valid .torrent file: ", 0) ==
          0);
    CHECK(h.error("torrent.add", {{"path", (h.dir / "missing.torrent").string()}}) ==
          errc::bad_torrent);
    auto magnet = h.call("torrent.add", {{"uri", "magnet:?xt=urn:btih:12345"}});
    CHECK(magnet["error"]["code"] == errc::bad_torrent);
    CHECK(h.error("torrent.add", {{"uri", "magnet:?dn=no-hash"}}) == errc::bad_torrent);
    CHECK(h.error("torrent.add", {{"uri", "ftp://example.org/x.torrent"}}) == errc::invalid_params);
    CHECK(h.error("torrent.add", json::object()) == errc::invalid_params);
    CHECK(h.error("torrent.add", {{"path", "a"}, {"uri", "http://x/"}}) == errc::invalid_params);
    CHECK(h.error("torrent.add", {{"path", "a"}, {"bogus", 1}}) == errc::invalid_params);
    CHECK(h.error("torrent.add", {{"path", kSingleTorrent.string()}, {"paused", "yes"}}) ==
          errc::invalid_params);
    CHECK(h.result("torrent.list").empty());
}

TEST_CASE("torrent.add from a URL nobody serves reports a fetch failure") {
    Harness h;
    std::uint16_t closed_port;
    {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor a(
            io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
        closed_port = a.local_endpoint().port();
    }
    auto r = h.call("torrent.add",
                    {{"uri", "http://127.0.0.1:" + std::to_string(closed_port) + "/x.torrent"}});
    CHECK(r["error"]["code"] == errc::fetch_failed);
    CHECK(r["error"]["message"].get<std::string>().find("cannot download") != std::string::npos);
}

TEST_CASE("torrent.list and torrent.get") {
    Harness h;
    h.add_single();
    auto list = h.result("torrent.list");
    REQUIRE(list.size() == 1);
    for (const char* field :
         {"id", "name", "state", "progress", "size", "downloaded", "uploaded", "download_rate",
          "upload_rate", "peers", "seeds", "eta", "ratio", "error", "download_dir", "added_at"})
        CHECK(list[0].contains(field));
    CHECK(list[0]["size"] == 40000);

    auto names = h.result("torrent.list", {{"fields", {"name"}}});
    CHECK(names[0] == json{{"id", kSingleId}, {"name", "lt_single"}});
    CHECK(h.error("torrent.list", {{"fields", {"nope"}}}) == errc::invalid_params);

    auto details = h.result("torrent.get", {{"id", kSingleId}});
    CHECK(details["name"] == "lt_single");
    REQUIRE(details["files"].size() == 1);
    CHECK(details["files"][0]["size"] == 40000);
    CHECK(details["pieces"].get<std::string>().size() == 3);
    CHECK(details["piece_length"] == 16384);
    CHECK(details["trackers"].is_array());
    CHECK(details["peers"].is_array());

    CHECK(h.error("torrent.get", {{"id", std::string(40, '0')}}) == errc::unknown_torrent);
    CHECK(h.error("torrent.get", {{"id", "0dd3"}}) == errc::invalid_params);
    CHECK(h.error("torrent.get") == errc::invalid_params);
}

TEST_CASE("pause, resume, verify, set and remove") {
    Harness h;
    h.add_single(false);
    // Let the initial check of the (absent) files finish first.
    for (int i = 0; i < 100 && h.result("torrent.list")[0]["state"] == "checking"; ++i)
        h.io.run_for(std::chrono::milliseconds(50));
    CHECK(h.result("torrent.pause", {{"ids", {kSingleId}}}) == json::object());
    CHECK(h.result("torrent.list")[0]["state"] == "paused");
    CHECK(h.result("torrent.resume", {{"all", true}}) == json::object());
    CHECK(h.result("torrent.list")[0]["state"] != "paused");
    CHECK(h.result("torrent.verify", {{"ids", {kSingleId}}}) == json::object());

    auto unknown = h.call("torrent.pause", {{"ids", {kSingleId, std::string(40, 'f')}}});
    CHECK(unknown["error"]["code"] == errc::unknown_torrent);
    CHECK(unknown["error"]["data"]["ids"] == json::array({std::string(40, 'f')}));
    CHECK(h.error("torrent.pause") == errc::invalid_params);
    CHECK(h.error("torrent.pause", {{"ids", json::array()}}) == errc::invalid_params);
    CHECK(h.error("torrent.pause", {{"ids", "notarray"}}) == errc::invalid_params);

    CHECK(h.result("torrent.set",
                   {{"ids", {kSingleId}}, {"download_rate_limit", 1024}, {"ratio_limit", 2.0}}) ==
          json::object());
    CHECK(h.error("torrent.set", {{"ids", {kSingleId}}}) == errc::invalid_params);
    CHECK(h.error("torrent.set", {{"ids", {kSingleId}}, {"download_rate_limit", -1}}) ==
          errc::invalid_params);
    CHECK(h.result("torrent.get", {{"id", kSingleId}})["limits"]["seed_idle_limit"] == nullptr);
    CHECK(h.result("torrent.set", {{"ids", {kSingleId}}, {"seed_idle_limit", 600}}) ==
          json::object());
    auto limits = h.result("torrent.get", {{"id", kSingleId}})["limits"];
    CHECK(limits["seed_idle_limit"] == 600);
    CHECK(limits["ratio_limit"] == 2.0);  // the earlier set stays
    CHECK(h.error("torrent.set", {{"ids", {kSingleId}}, {"seed_idle_limit", -1}}) ==
          errc::invalid_params);
    CHECK(h.error("torrent.set", {{"ids", {kSingleId}}, {"seed_idle_limit", 1.5}}) ==
          errc::invalid_params);
    CHECK(h.result("torrent.set", {{"ids", {kSingleId}}, {"sequential", true}}) == json::object());
    CHECK(h.result("torrent.get", {{"id", kSingleId}})["sequential"] == true);
    CHECK(h.error("torrent.set", {{"ids", {kSingleId}}, {"sequential", 1}}) ==
          errc::invalid_params);

    CHECK(h.error("torrent.remove", {{"all", true}}) == errc::invalid_params);
    CHECK(h.result("torrent.remove", {{"ids", {kSingleId}}, {"delete_data", true}}) ==
          json::object());
    // Removal may finish asynchronously; the torrent must be gone from the list soon.
    bool gone = false;
    for (int i = 0; i < 40 && !gone; ++i) {
        gone = h.result("torrent.list").empty();
        if (!gone) h.io.run_for(std::chrono::milliseconds(50));
    }
    CHECK(gone);
}

TEST_CASE("labels: torrent.add sets them, torrent.set replaces them, list and get show them") {
    Harness h;
    const std::string single = base64_encode(read_file(kSingleTorrent));
    CHECK(h.error("torrent.add", {{"metainfo", single}, {"labels", "tv"}}) == errc::invalid_params);
    CHECK(h.error("torrent.add", {{"metainfo", single}, {"labels", {"tv", 3}}}) ==
          errc::invalid_params);
    CHECK(h.error("torrent.add", {{"metainfo", single}, {"labels", {"a,b"}}}) ==
          errc::invalid_params);
    CHECK(h.result("torrent.list").empty());
    h.result("torrent.add",
             {{"metainfo", single}, {"paused", true}, {"labels", {"tv", "hd", "tv"}}});
    CHECK(h.result("torrent.list")[0]["labels"] == json({"tv", "hd"}));  // duplicates dropped
    CHECK(h.result("torrent.get", {{"id", kSingleId}})["labels"] == json({"tv", "hd"}));

    CHECK(h.result("torrent.set", {{"ids", {kSingleId}}, {"labels", {"movies"}}}) ==
          json::object());
    CHECK(h.result("torrent.list")[0]["labels"] == json({"movies"}));
    auto refused = h.call("torrent.set", {{"ids", {kSingleId}}, {"labels", {"x\ny"}}});
    CHECK(refused["error"]["code"] == errc::invalid_params);
    CHECK(refused["error"]["message"].get<std::string>().find("control character") !=
          std::string::npos);
    json too_many = json::array();
    for (int i = 0; i < 40; ++i) too_many.push_back("l" + std::to_string(i));
    CHECK(h.error("torrent.set", {{"ids", {kSingleId}}, {"labels", too_many}}) ==
          errc::invalid_params);
    CHECK(h.result("torrent.list")[0]["labels"] == json({"movies"}));  // unchanged
    CHECK(h.result("torrent.set", {{"all", true}, {"labels", json::array()}}) == json::object());
    CHECK(h.result("torrent.list")[0]["labels"] == json::array());
}

TEST_CASE("file priorities: torrent.add and torrent.set, array and object forms") {
    Harness h;
    const std::string multi = base64_encode(read_file(kMultiTorrent));
    // torrent.add checks the count against the torrent once it is read.
    CHECK(h.error("torrent.add", {{"metainfo", multi}, {"file_priorities", {0, 4}}}) ==
          errc::invalid_params);
    CHECK(h.error("torrent.add", {{"metainfo", multi}, {"file_priorities", {{"0", 1}}}}) ==
          errc::invalid_params);
    CHECK(h.error("torrent.add", {{"metainfo", multi}, {"file_priorities", {0, 4, 9}}}) ==
          errc::invalid_params);
    CHECK(h.result("torrent.list").empty());
    h.result("torrent.add", {{"metainfo", multi},
                             {"paused", true},
                             {"file_priorities", {0, 4, 7}},
                             {"sequential", true}});
    auto got = h.result("torrent.get", {{"id", kMultiId}});
    REQUIRE(got["files"].size() == 3);
    auto priorities = [&] {
        std::vector<int> out;
        auto details = h.result("torrent.get", {{"id", kMultiId}});
        for (auto& f : details["files"]) out.push_back(f["priority"].get<int>());
        return out;
    };
    CHECK(priorities() == std::vector<int>{0, 4, 7});
    CHECK(got["sequential"] == true);
    CHECK(got["total_size"] == 40123);
    CHECK(got["size"] == 40123 - got["files"][0]["size"].get<std::int64_t>());

    CHECK(h.result("torrent.set", {{"ids", {kMultiId}}, {"file_priorities", {{"1", 0}}}}) ==
          json::object());
    CHECK(priorities() == std::vector<int>{0, 0, 7});
    CHECK(h.result("torrent.set", {{"ids", {kMultiId}}, {"file_priorities", {4, 4, 4}}}) ==
          json::object());
    CHECK(priorities() == std::vector<int>{4, 4, 4});
    CHECK(h.result("torrent.get", {{"id", kMultiId}})["size"] == 40123);

    for (const json& bad :
         {json{1, 2}, json{1, 2, 8}, json{1, 2, -1}, json{1, "x", 3}, json{{"3", 0}},
          json{{"x", 0}}, json{{"-1", 0}}, json{{"1", 9}}, json("skip"), json(3)}) {
        CAPTURE(bad.dump());
        CHECK(h.error("torrent.set", {{"ids", {kMultiId}}, {"file_priorities", bad}}) ==
              errc::invalid_params);
    }
    CHECK(priorities() == std::vector<int>{4, 4, 4});
    // Checked for every torrent before any changes: the single-file one cannot take 3 values.
    h.add_single();
    CHECK(h.error("torrent.set", {{"ids", {kMultiId, kSingleId}},
                                  {"file_priorities", {0, 0, 0}}}) == errc::invalid_params);
    CHECK(priorities() == std::vector<int>{4, 4, 4});
    CHECK(h.result("torrent.set", {{"all", true}, {"file_priorities", {{"0", 1}}}}) ==
          json::object());
    CHECK(priorities() == std::vector<int>{1, 4, 4});
    CHECK(h.result("torrent.get", {{"id", kSingleId}})["files"][0]["priority"] == 1);
}

TEST_CASE("session.get, session.set, session.stats") {
    Harness h;
    auto settings = h.result("session.get");
    CHECK(settings["listen_address"] == "127.0.0.1");
    CHECK(settings["download_rate_limit"] == 0);
    auto updated =
        h.result("session.set", {{"download_rate_limit", 65536}, {"max_connections", 100}});
    CHECK(updated["download_rate_limit"] == 65536);
    CHECK(updated["max_connections"] == 100);
    CHECK(h.result("session.get")["download_rate_limit"] == 65536);
    REQUIRE(h.saved_settings.size() == 1);
    CHECK(h.saved_settings[0].download_rate_limit == 65536);
    CHECK(h.error("session.set", {{"download_rate", 1}}) == errc::invalid_params);
    CHECK(h.error("session.set", {{"max_connections", 0}}) == errc::invalid_params);

    h.add_single();
    auto stats = h.result("session.stats");
    CHECK(stats["torrents"] == 1);
    CHECK(stats["by_state"].is_object());
}

TEST_CASE("daemon.shutdown runs the callback after replying") {
    Harness h;
    CHECK(h.result("daemon.shutdown") == json::object());
    for (int i = 0; i < 20 && h.shutdowns == 0; ++i) h.io.run_for(std::chrono::milliseconds(10));
    CHECK(h.shutdowns == 1);
}

TEST_CASE(
    "torrent.remove with delete_data answers once the data is gone; a re-add meanwhile is "
    "refused") {
    Harness h;
    h.add_single(true);
    auto details = h.result("torrent.get", {{"id", kSingleId}});
    fs::path file = h.dir / "downloads" / details["files"][0]["path"].get<std::string>();
    fs::create_directories(file.parent_path());
    std::ofstream(file) << "some bytes";
    for (int i = 0; i < 100 && h.result("torrent.list")[0]["state"] == "checking"; ++i)
        h.io.run_for(std::chrono::milliseconds(50));

    json request = {{"jsonrpc", "2.0"},
                    {"method", "torrent.remove"},
                    {"params", {{"ids", {kSingleId}}, {"delete_data", true}}},
                    {"id", 99}};
    std::optional<std::string> reply;
    h.dispatcher.handle(request.dump(), [&](std::optional<std::string> r) { reply = r; });
    // The deletion runs on the disk pool; the answer waits for it on the io thread.
    CHECK_FALSE(reply.has_value());
    auto readd = h.call("torrent.add",
                        {{"metainfo", base64_encode(read_file(kSingleTorrent))}, {"paused", true}});
    CHECK(readd["error"]["code"] == errc::being_removed);
    CHECK(readd["error"]["message"].get<std::string>().find("try again") != std::string::npos);

    for (int i = 0; i < 200 && !reply; ++i) h.io.run_for(std::chrono::milliseconds(25));
    REQUIRE(reply.has_value());
    CHECK(json::parse(*reply)["result"] == json::object());
    CHECK_FALSE(fs::exists(file));
    CHECK(h.add_single()["duplicate"] == false);  // and now it may come back
}
