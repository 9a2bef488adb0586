// The Transmission-compatible RPC (rpc/transmission) against a real Session: the translation of
// each method, and the HTTP handshake rules of its route.
#include <doctest/doctest.h>

#include "rpc/transmission/torrent_ids.hpp"
#include "rpc/transmission/torrent_view.hpp"
#include "rpc/transmission/transmission_route.hpp"
#include "rpc/transport/json_parse.hpp"
#include "tests/unit/rpc_methods/rpc_harness.hpp"

using namespace btd;
using namespace btd::rpc;
using namespace btd::rpc::transmission;
using nlohmann::json;
using namespace btd::rpc::testing;
namespace http = boost::beast::http;

namespace {

const std::string kMultiId = "46a3342638698392a696662409e7e0757308590b";
const fs::path kMultiTorrent = fs::path(BTD_TEST_DATA_DIR) / "lt_multi_v1.torrent";
const std::string kHybridId = "739a4991e31b420c388838ae597d5a5066407d88";
const fs::path kHybridTorrent = fs::path(BTD_TEST_DATA_DIR) / "lt_hybrid.torrent";

TransmissionOptions test_options() {
    TransmissionOptions options;
    options.config_dir = "/state";
    options.session_id = "sid";
    options.settings = {daemon::rpc_settings, daemon::apply_rpc_settings};
    return options;
}

struct TransmissionHarness : Harness {
    TransmissionRpc rpc{*session, io, test_options()};

    json call(const json& request) {
        std::optional<std::string> reply;
        rpc.handle(request.dump(), [&](std::string r) { reply = std::move(r); });
        for (int i = 0; i < 200 && !reply; ++i) io.run_for(std::chrono::milliseconds(25));
        REQUIRE(reply.has_value());
        return json::parse(*reply);
    }
    json call(const std::string& method, const json& args = json::object()) {
        return call(json{{"method", method}, {"arguments", args}});
    }
    json ok(const std::string& method, const json& args = json::object()) {
        auto r = call(method, args);
        CAPTURE(r.dump());
        REQUIRE(r["result"] == "success");
        return r["arguments"];
    }
    std::string fails(const std::string& method, const json& args = json::object()) {
        auto r = call(method, args);
        CAPTURE(r.dump());
        REQUIRE(r["result"] != "success");
        return r["result"].get<std::string>();
    }
    json add(const fs::path& torrent, json extra = json::object()) {
        extra["metainfo"] = base64_encode(read_file(torrent));
        extra["paused"] = true;
        return ok("torrent-add", extra);
    }
    json get(const json& fields, const json& ids) {
        json args = {{"fields", fields}};
        if (!ids.is_null()) args["ids"] = ids;
        return ok("torrent-get", args)["torrents"];
    }
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("transmission: the tag is echoed, unknown methods and bad requests get a result") {
    TransmissionHarness h;
    auto r = h.call(json{{"method", "session-stats"}, {"tag", 42}});
    CHECK(r["result"] == "success");
    CHECK(r["tag"] == 42);
    CHECK(
        h.call(json{{"method", "no-such-thing"}, {"tag", 7}}) ==
        json{{"result", "method name not recognized"}, {"arguments", json::object()}, {"tag", 7}});
    std::optional<std::string> reply;
    h.rpc.handle("{not json", [&](std::string s) { reply = s; });
    REQUIRE(reply);
    CHECK(json::parse(*reply)["result"] != "success");
    CHECK(h.call(json{{"method", "torrent-get"}, {"arguments", 5}})["result"] != "success");
}

TEST_CASE("transmission: session-get reports a 4.x version with btd's, and btd's settings") {
    TransmissionHarness h;
    auto s = h.ok("session-get");
    CHECK(s["version"] == "4.0.0 (btd " + std::string(kClientVersion) + ")");
    CHECK(s["rpc-version"] == 17);
    CHECK(s["rpc-version-minimum"] == 14);
    CHECK(s["config-dir"] == "/state");
    CHECK(s["session-id"] == "sid");
    CHECK(s["download-dir"] == (h.dir / "downloads").string());
    CHECK(s["speed-limit-down-enabled"] == false);
    CHECK(s["seedRatioLimited"] == false);
    auto only = h.ok("session-get", {{"fields", {"version", "download-dir"}}});
    CHECK(only.size() == 2);
}

TEST_CASE("transmission: session-set and session-get of the queues map onto btd's counts") {
    TransmissionHarness h;
    h.ok("session-set", {{"download-queue-size", 2},
                         {"download-queue-enabled", true},
                         {"seed-queue-size", 3},
                         {"queue-stalled-minutes", 7},
                         {"queue-stalled-enabled", true}});
    auto s = h.session->settings();
    CHECK(s.max_active_downloads == 2);
    CHECK(s.max_active_seeds == 3);  // a size alone turns the queue on
    CHECK(s.queue_stalled_after == 7 * 60);
    auto got = h.ok("session-get");
    CHECK(got["download-queue-size"] == 2);
    CHECK(got["download-queue-enabled"] == true);
    CHECK(got["seed-queue-size"] == 3);
    CHECK(got["seed-queue-enabled"] == true);
    CHECK(got["queue-stalled-minutes"] == 7);
    CHECK(got["queue-stalled-enabled"] == true);
    h.ok("session-set", {{"seed-queue-enabled", false}, {"queue-stalled-enabled", false}});
    CHECK(h.session->settings().max_active_seeds == -1);
    CHECK(h.session->settings().queue_stalled_after == 0);
    CHECK(h.session->settings().max_active_downloads == 2);  // untouched
    got = h.ok("session-get");
    CHECK(got["seed-queue-enabled"] == false);
    CHECK(got["queue-stalled-enabled"] == false);
    CHECK(contains(h.fails("session-set", {{"seed-queue-enabled", true}}), "seed-queue-size"));
    CHECK(contains(h.fails("session-set", {{"download-queue-size", -1}}), "download-queue-size"));
    h.ok("session-set", {{"download-queue-enabled", true}});  // keeps its size
    CHECK(h.session->settings().max_active_downloads == 2);
}

TEST_CASE("transmission: torrent-set queuePosition and location") {
    TransmissionHarness h;
    h.add(kSingleTorrent);
    h.add(kMultiTorrent);
    h.add(kHybridTorrent);
    auto position = [&](const std::string& hash) {
        return h.get({"queuePosition"}, hash)[0]["queuePosition"].get<int>();
    };
    CHECK(position(kHybridId) == 2);
    h.ok("torrent-set", {{"ids", {kHybridId}}, {"queuePosition", 0}});
    CHECK(position(kHybridId) == 0);
    CHECK(position(kSingleId) == 1);
    CHECK(position(kMultiId) == 2);
    h.ok("torrent-set", {{"ids", {kHybridId}}, {"queuePosition", 50}});  // clamped: last
    CHECK(position(kHybridId) == 2);
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"queuePosition", -1}}), "queuePosition"));

    auto elsewhere = h.dir / "elsewhere";
    fs::create_directories(elsewhere);
    h.ok("torrent-set", {{"ids", {kSingleId}}, {"location", elsewhere.string()}});
    auto id = *sha1_from_hex(kSingleId);
    for (int i = 0; i < 200 && h.session->details(id).status.download_dir != elsewhere; ++i)
        h.io.run_for(std::chrono::milliseconds(25));
    CHECK(h.session->details(id).status.download_dir == elsewhere);
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"location", "rel/dir"}}), "absolute"));
}

TEST_CASE("transmission: session-set maps kB/s, minutes and switches onto session settings") {
    TransmissionHarness h;
    h.ok("session-set", {{"speed-limit-down", 200},
                         {"speed-limit-down-enabled", true},
                         {"speed-limit-up", 300},
                         {"seedRatioLimit", 1.5},
                         {"seedRatioLimited", true},
                         {"idle-seeding-limit", 30},
                         {"idle-seeding-limit-enabled", true}});
    const auto& s = h.session->settings();
    CHECK(s.download_rate_limit == 200000);
    CHECK(s.upload_rate_limit == 300000);  // a value alone turns the limit on
    CHECK(s.ratio_limit == 1.5);
    CHECK(s.seed_idle_limit == 1800);
    REQUIRE(h.saved_settings.empty());  // only btd's own session.set reports to this harness
    auto got = h.ok("session-get");
    CHECK(got["speed-limit-down"] == 200);
    CHECK(got["speed-limit-up-enabled"] == true);
    CHECK(got["idle-seeding-limit"] == 30);
    h.ok("session-set", {{"speed-limit-down-enabled", false}});
    CHECK(h.session->settings().download_rate_limit == 0);
    CHECK(contains(h.fails("session-set", {{"speed-limit-down-enabled", true}}),
                   "give speed-limit-down"));
    auto refused = h.fails("session-set", {{"speed-limit-up", 1}, {"alt-speed-enabled", true}});
    CHECK(contains(refused, "alt-speed-enabled"));
    CHECK(h.session->settings().upload_rate_limit == 300000);  // nothing half-applied
    CHECK(contains(h.fails("session-set", {{"speed-limit-up", "fast"}}), "speed-limit-up"));
}

TEST_CASE("transmission: session-set ranges are the settings table's, named by both keys") {
    TransmissionHarness h;
    auto before = h.session->settings();
    auto refused = h.fails("session-set", {{"peer-limit-global", 0}, {"speed-limit-up", 5}});
    CHECK(contains(refused, "peer-limit-global"));
    CHECK(contains(refused, "max_connections must be an integer from 1 to 100000"));
    CHECK(h.session->settings().upload_rate_limit == before.upload_rate_limit);  // none applied
    CHECK(contains(h.fails("session-set", {{"peer-limit-per-torrent", 20000}}), "1 to 10000"));
    CHECK(contains(h.fails("session-set", {{"download-queue-size", 200000}}),
                   "max_active_downloads must be an integer from -1 to 100000"));
    CHECK(contains(h.fails("session-set", {{"peer-port", 70000}}), "peer-port"));
    h.ok("session-set", {{"peer-limit-per-torrent", 10000}, {"peer-port", 0}});
    CHECK(h.session->settings().max_peers_per_torrent == 10000);
}

TEST_CASE("transmission: torrent-add replies torrent-added, then torrent-duplicate, same id") {
    TransmissionHarness h;
    auto added = h.add(kSingleTorrent);
    REQUIRE(added.contains("torrent-added"));
    CHECK(added["torrent-added"]["hashString"] == kSingleId);
    CHECK(added["torrent-added"]["name"] == "lt_single");
    int id = added["torrent-added"]["id"];
    auto again = h.ok("torrent-add", {{"filename", kSingleTorrent.string()}});
    REQUIRE(again.contains("torrent-duplicate"));
    CHECK(again["torrent-duplicate"]["id"] == id);
    auto multi = h.add(kMultiTorrent, {{"download-dir", (h.dir / "other").string()}});
    CHECK(multi["torrent-added"]["id"] == id + 1);
    CHECK(h.session->details(*sha1_from_hex(kMultiId)).status.download_dir == h.dir / "other");
    CHECK(h.ok("torrent-add", {{"filename", "magnet:?xt=urn:btih:" + kSingleId}})
              .contains("torrent-duplicate"));  // the same info-hash as the .torrent added above
    CHECK(contains(h.fails("torrent-add", {{"filename", "magnet:?xt=urn:btih:12345"}}), "magnet"));
    CHECK(contains(h.fails("torrent-add", {{"metainfo", "!!"}}), "base64"));
    CHECK(contains(h.fails("torrent-add", {{"filename", (h.dir / "none.torrent").string()}}),
                   ".torrent"));
    CHECK(contains(h.fails("torrent-add", json::object()), "filename or metainfo"));
}

TEST_CASE("transmission: ids stay stable and select by number, hash, list or all") {
    TransmissionHarness h;
    int single = h.add(kSingleTorrent)["torrent-added"]["id"];
    int multi = h.add(kMultiTorrent)["torrent-added"]["id"];
    CHECK(h.get({"id"}, nullptr) == json{{{"id", single}}, {{"id", multi}}});
    CHECK(h.get({"hashString"}, multi) == json{{{"hashString", kMultiId}}});
    CHECK(h.get({"id"}, kMultiId) == json{{{"id", multi}}});
    CHECK(h.get({"id"}, {kSingleId, multi}).size() == 2);
    CHECK(h.get({"id"}, 999).empty());  // unknown ids are skipped, as Transmission does
    CHECK(h.get({"id"}, "recently-active").size() == 2);  // both were just added
    CHECK(contains(h.fails("torrent-get", {{"fields", {"id"}}, {"ids", "nonsense"}}), "ids"));
    h.ok("torrent-remove", {{"ids", single}});
    auto recent = h.ok("torrent-get", {{"fields", {"id"}}, {"ids", "recently-active"}});
    CHECK(recent["removed"] == json{single});
    h.add(kSingleTorrent);
    CHECK(h.get({"id"}, kSingleId) == json{{{"id", single}}});  // the same id comes back
    auto table = h.ok("torrent-get", {{"fields", {"id", "name"}}, {"format", "table"}});
    CHECK(table["torrents"][0] == json{"id", "name"});
    CHECK(table["torrents"].size() == 3);
}

TEST_CASE("transmission: torrent-get fields for transmission-remote -l and Sonarr") {
    TransmissionHarness h;
    h.add(kSingleTorrent);
    auto t = h.get({"id",
                    "name",
                    "status",
                    "totalSize",
                    "sizeWhenDone",
                    "leftUntilDone",
                    "percentDone",
                    "rateDownload",
                    "rateUpload",
                    "eta",
                    "downloadDir",
                    "labels",
                    "error",
                    "errorString",
                    "isFinished",
                    "uploadRatio",
                    "addedDate",
                    "uploadedEver",
                    "downloadedEver",
                    "peersConnected",
                    "peersSendingToUs",
                    "queuePosition",
                    "seedRatioLimit",
                    "seedRatioMode",
                    "seedIdleLimit",
                    "seedIdleMode",
                    "file-count",
                    "noSuchField"},
                   nullptr)[0];
    CHECK(t["name"] == "lt_single");
    CHECK(t["status"] == 0);  // added paused: stopped
    CHECK(t["totalSize"] == 40000);
    CHECK(t["sizeWhenDone"] == 40000);
    CHECK(t["leftUntilDone"] == 40000);
    CHECK(t["percentDone"] == 0.0);
    CHECK(t["eta"] == -1);  // not downloading
    CHECK(t["labels"] == json::array());
    CHECK(t["error"] == 0);
    CHECK(t["isFinished"] == false);
    CHECK(t["uploadRatio"] == -1);
    CHECK(t["queuePosition"] == 0);
    CHECK(t["seedRatioMode"] == 0);
    CHECK(t["file-count"] == 1);
    CHECK(t["downloadDir"] == (h.dir / "downloads").string());
    CHECK_FALSE(t.contains("noSuchField"));
    h.ok("torrent-start", {{"ids", {kSingleId}}});
    auto started = h.get({"status"}, kSingleId)[0]["status"].get<int>();
    CHECK((started == 2 || started == 4));  // checking the (absent) files, or downloading
    h.ok("torrent-stop", {{"ids", 1}});
    CHECK(h.get({"status"}, 1)[0]["status"] == 0);
}

TEST_CASE("transmission: files, wanted and priorities hide pad files and map indices") {
    TransmissionHarness h;
    h.add(kHybridTorrent, {{"files-unwanted", {1}}, {"priority-high", {0}}});
    auto id = *sha1_from_hex(kHybridId);
    auto btd = h.session->file_priorities(id);
    REQUIRE(btd.size() == 6);  // three of them pad files
    auto t = h.get({"files", "fileStats", "wanted", "priorities"}, kHybridId)[0];
    REQUIRE(t["files"].size() == 3);
    CHECK(t["wanted"] == json{1, 0, 1});
    CHECK(t["priorities"] == json{1, 0, 0});
    CHECK(t["fileStats"][1]["wanted"] == false);
    CHECK(contains(t["files"][0]["name"].get<std::string>(), "lt_hybrid/"));
    h.ok("torrent-set", {{"ids", {kHybridId}}, {"files-wanted", {1}}, {"priority-low", {2}}});
    t = h.get({"wanted", "priorities"}, kHybridId)[0];
    CHECK(t["wanted"] == json{1, 1, 1});
    CHECK(t["priorities"] == json{1, 0, -1});
    h.ok("torrent-set", {{"ids", {kHybridId}}, {"files-unwanted", json::array()}});
    CHECK(h.get({"wanted"}, kHybridId)[0]["wanted"] == json{0, 0, 0});
    CHECK(contains(h.fails("torrent-set", {{"ids", {kHybridId}}, {"files-wanted", {3}}}),
                   "out of range"));
}

TEST_CASE("transmission: labels at torrent-add, in torrent-get, replaced by torrent-set") {
    TransmissionHarness h;
    CHECK(contains(
        h.fails("torrent-add", {{"filename", kSingleTorrent.string()}, {"labels", {"tv", "a,b"}}}),
        "comma"));
    CHECK(
        contains(h.fails("torrent-add", {{"filename", kSingleTorrent.string()}, {"labels", "tv"}}),
                 "labels"));
    CHECK_FALSE(h.session->contains(*sha1_from_hex(kSingleId)));  // nothing added on a bad label
    h.add(kSingleTorrent, {{"labels", {"sonarr", "tv"}}});
    auto labels_of_1 = [&] {
        return h.ok("torrent-get", {{"ids", 1}, {"fields", {"labels"}}})["torrents"][0]["labels"];
    };
    CHECK(labels_of_1() == json({"sonarr", "tv"}));
    h.ok("torrent-set", {{"ids", 1}, {"labels", {"radarr"}}});
    CHECK(labels_of_1() == json({"radarr"}));
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"labels", {""}}}), "empty"));
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"labels", {std::string(200, 'x')}}}),
                   "longer than"));
    CHECK(labels_of_1() == json({"radarr"}));  // a refused set changes nothing
    h.ok("torrent-set", {{"ids", 1}, {"labels", json::array()}});
    CHECK(labels_of_1() == json::array());
}

TEST_CASE("transmission: Sonarr's torrent-set seeding body reaches the torrent; modes 0 and 2") {
    TransmissionHarness h;
    h.add(kSingleTorrent);
    auto id = *sha1_from_hex(kSingleId);
    // TransmissionProxy.SetTorrentSeedingConfiguration: the hash, ratio and seed time (minutes).
    h.ok("torrent-set", {{"ids", {kSingleId}},
                         {"seedRatioLimit", 1.5},
                         {"seedRatioMode", 1},
                         {"seedIdleLimit", 90},
                         {"seedIdleMode", 1}});
    auto limits = h.session->details(id).limits;
    CHECK(limits.ratio_limit == std::optional<double>(1.5));
    CHECK(limits.seed_idle_limit == std::optional<std::int64_t>(90 * 60));
    auto fields = json{"seedRatioLimit", "seedRatioMode", "seedIdleLimit", "seedIdleMode"};
    auto t = h.get(fields, kSingleId)[0];
    CHECK(t["seedIdleMode"] == 1);
    CHECK(t["seedIdleLimit"] == 90);
    CHECK(t["seedRatioMode"] == 1);
    CHECK(t["seedRatioLimit"] == 1.5);
    h.ok("torrent-set", {{"ids", 1}, {"seedIdleMode", 2}});  // no idle limit for this one
    CHECK(h.session->details(id).limits.seed_idle_limit == std::optional<std::int64_t>(0));
    CHECK(h.get(fields, kSingleId)[0]["seedIdleMode"] == 2);
    h.ok("torrent-set", {{"ids", 1}, {"seedIdleMode", 0}, {"seedRatioMode", 0}});
    CHECK_FALSE(h.session->details(id).limits.seed_idle_limit);
    CHECK_FALSE(h.session->details(id).limits.ratio_limit);
    t = h.get(fields, kSingleId)[0];
    CHECK(t["seedIdleMode"] == 0);
    CHECK(t["seedRatioMode"] == 0);
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"seedIdleMode", 3}}), "seedIdleMode"));
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"seedIdleLimit", -1}}), "seedIdleLimit"));
}

TEST_CASE("transmission: seed mode 1 alone takes the torrent's or the session's limit") {
    TransmissionHarness h;
    h.add(kSingleTorrent);
    auto id = *sha1_from_hex(kSingleId);
    auto fields = json{"seedRatioLimit", "seedRatioMode", "seedIdleLimit", "seedIdleMode"};
    // Neither the torrent nor the session has a limit: mode 1 alone has nothing to apply.
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"seedIdleMode", 1}}), "seedIdleMode 1"));
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"seedRatioMode", 1}}), "seedRatioMode 1"));
    CHECK_FALSE(h.session->details(id).limits.seed_idle_limit);
    h.ok("session-set", {{"idle-seeding-limit", 45},
                         {"idle-seeding-limit-enabled", true},
                         {"seedRatioLimit", 2.5},
                         {"seedRatioLimited", true}});
    h.ok("torrent-set", {{"ids", 1}, {"seedIdleMode", 1}, {"seedRatioMode", 1}});
    auto limits = h.session->details(id).limits;
    CHECK(limits.seed_idle_limit == std::optional<std::int64_t>(45 * 60));
    CHECK(limits.ratio_limit == std::optional<double>(2.5));
    auto t = h.get(fields, kSingleId)[0];
    CHECK(t == json{{"seedIdleLimit", 45},
                    {"seedIdleMode", 1},
                    {"seedRatioLimit", 2.5},
                    {"seedRatioMode", 1}});
    // On its own limit, a value alone changes it; mode 1 alone again keeps it.
    h.ok("torrent-set", {{"ids", 1}, {"seedIdleLimit", 20}, {"seedRatioLimit", 1.25}});
    h.ok("torrent-set", {{"ids", 1}, {"seedIdleMode", 1}});
    t = h.get(fields, kSingleId)[0];
    CHECK(t == json{{"seedIdleLimit", 20},
                    {"seedIdleMode", 1},
                    {"seedRatioLimit", 1.25},
                    {"seedRatioMode", 1}});
    // Following the session's limit (mode 0), a value alone would not apply: refused, unchanged.
    h.ok("torrent-set", {{"ids", 1}, {"seedIdleMode", 0}});
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"seedIdleLimit", 10}}), "alone"));
    CHECK_FALSE(h.session->details(id).limits.seed_idle_limit);
    CHECK(h.get(fields, kSingleId)[0]["seedIdleLimit"] == 45);  // the session's
}

TEST_CASE("transmission: torrent-set limits, refused arguments, remove with data") {
    TransmissionHarness h;
    h.add(kSingleTorrent);
    auto id = *sha1_from_hex(kSingleId);
    h.ok("torrent-set", {{"ids", 1},
                         {"downloadLimit", 100},
                         {"downloadLimited", true},
                         {"seedRatioLimit", 2},
                         {"seedRatioMode", 1}});
    CHECK(contains(h.fails("torrent-set", {{"ids", 1}, {"uploadLimited", true}}), "uploadLimit"));
    h.ok("torrent-set", {{"ids", 1}, {"seedRatioMode", 0}});  // back to the session's limit
    CHECK_FALSE(h.session->details(id).limits.ratio_limit);
    h.ok("torrent-reannounce", {{"ids", 1}});
    h.ok("queue-move-top", {{"ids", 1}});
    CHECK(contains(h.fails("torrent-set-location", {{"ids", 1}}), "location"));
    CHECK(contains(h.fails("torrent-set-location", {{"ids", 1}, {"location", "rel/dir"}}),
                   "absolute"));
    CHECK(contains(h.fails("torrent-rename-path", {{"ids", 1}}), "not supported"));
    CHECK(contains(h.fails("port-test"), "no outside service"));
    auto data = h.dir / "downloads" / "lt_single";
    fs::create_directories(data.parent_path());
    std::ofstream(data) << "partial";
    h.ok("torrent-remove", {{"ids", 1}, {"delete-local-data", true}});
    CHECK_FALSE(h.session->contains(id));
    CHECK_FALSE(fs::exists(data));  // deleted before the reply
}

TEST_CASE("transmission: session-stats and free-space") {
    TransmissionHarness h;
    h.add(kSingleTorrent);
    auto s = h.ok("session-stats");
    CHECK(s["torrentCount"] == 1);
    CHECK(s["pausedTorrentCount"] == 1);
    CHECK(s["current-stats"]["filesAdded"] == 1);
    CHECK(s["cumulative-stats"].contains("downloadedBytes"));
    auto f = h.ok("free-space", {{"path", h.dir.string()}});
    CHECK(f["path"] == h.dir.string());
    CHECK(f["size-bytes"].get<std::int64_t>() > 0);
    CHECK(f["total_size"].get<std::int64_t>() >= f["size-bytes"].get<std::int64_t>());
    CHECK(contains(h.fails("free-space", {{"path", (h.dir / "nope").string()}}), "cannot"));
}

TEST_CASE("transmission route: 401 before 409, 409 only for the session id, then 405") {
    TransmissionHarness h;
    TransmissionRoute route(h.rpc, std::string("s3cret"));
    HttpRequest request{http::verb::get, "/transmission/rpc", 11};
    auto r = route.check_headers(request);
    REQUIRE(r);
    CHECK(r->result() == http::status::unauthorized);
    CHECK(r->at(http::field::www_authenticate) == "Basic realm=\"btd\"");
    CHECK(r->find("X-Transmission-Rpc-Version") == r->end());
    request.set(http::field::authorization, "Basic " + base64_encode("anyone:wrong"));
    CHECK(route.check_headers(request)->result() == http::status::unauthorized);
    request.set(http::field::authorization, "Basic " + base64_encode("anyone:s3cret"));
    r = route.check_headers(request);
    REQUIRE(r);
    CHECK(r->result() == http::status::conflict);
    CHECK(r->at(kSessionIdHeader) == "sid");
    request.set(kSessionIdHeader, "stale");
    CHECK(route.check_headers(request)->result() == http::status::conflict);
    request.set(kSessionIdHeader, "sid");
    CHECK(route.check_headers(request)->result() == http::status::method_not_allowed);
    request.method(http::verb::post);
    CHECK_FALSE(route.check_headers(request));
    CHECK(credentials_match("Bearer s3cret", "s3cret"));
    CHECK_FALSE(credentials_match("Basic " + base64_encode("s3cret"), "s3cret"));  // no colon
    CHECK_FALSE(credentials_match("Basic !!!", "s3cret"));
    TransmissionRoute open(h.rpc, std::nullopt);
    HttpRequest bare{http::verb::post, "/transmission/rpc", 11};
    CHECK(open.check_headers(bare)->result() == http::status::conflict);
}

TEST_CASE("transmission route: rpc_username/rpc_password pass Basic auth beside the secret") {
    TransmissionHarness h;
    TransmissionCredentials both{std::string("s3cret"), std::pair("sonarr", "pa:ss")};
    auto basic = [](const std::string& pair) { return "Basic " + base64_encode(pair); };
    CHECK(credentials_match(basic("sonarr:pa:ss"), both));  // the password may hold ':'
    CHECK(credentials_match(basic("anyone:s3cret"), both));
    CHECK(credentials_match("Bearer s3cret", both));
    CHECK_FALSE(credentials_match(basic("radarr:pa:ss"), both));
    CHECK_FALSE(credentials_match(basic("sonarr:pa"), both));
    CHECK_FALSE(credentials_match("Bearer pa:ss", both));
    CHECK_FALSE(credentials_match(basic("sonarr:s3cre"), both));
    // Without the secret (rpc_auth = false) the pair is still required.
    TransmissionRoute pair_only(h.rpc, TransmissionCredentials{std::nullopt, std::pair("u", "p")});
    HttpRequest request{http::verb::post, "/transmission/rpc", 11};
    auto r = pair_only.check_headers(request);
    REQUIRE(r);
    CHECK(r->result() == http::status::unauthorized);
    CHECK(r->at(http::field::www_authenticate) == "Basic realm=\"btd\"");
    CHECK(contains(r->body(), "rpc_username"));
    request.set(http::field::authorization, basic("u:p"));
    CHECK(pair_only.check_headers(request)->result() == http::status::conflict);
    request.set(http::field::authorization, basic("anyone:s3cret"));
    CHECK(pair_only.check_headers(request)->result() == http::status::unauthorized);
}

TEST_CASE("transmission: download-dir obeys allowed_download_dirs; a new job replies when stored") {
    Harness h;
    std::vector<std::function<void()>> pending;
    TransmissionOptions options = test_options();
    options.allowed_download_dirs = {h.dir / "allowed"};
    options.job_added = [&](std::function<void()> stored) { pending.push_back(stored); };
    TransmissionRpc rpc(*h.session, h.io, options);
    std::optional<std::string> reply;  // outlives every call: a stored job replies later
    auto call = [&](const std::string& method, const json& args) {
        reply.reset();
        rpc.handle(json{{"method", method}, {"arguments", args}}.dump(),
                   [&](std::string r) { reply = std::move(r); });
        for (int i = 0; i < 20 && !reply; ++i) h.io.run_for(std::chrono::milliseconds(10));
        return reply;
    };
    json add = {{"metainfo", base64_encode(read_file(kSingleTorrent))}, {"paused", true}};
    add["download-dir"] = (h.dir / "elsewhere").string();
    auto refused = call("torrent-add", add);
    REQUIRE(refused);
    CHECK(contains(*refused, "allowed_download_dirs"));
    auto set = call("session-set", {{"download-dir", (h.dir / "elsewhere").string()}});
    REQUIRE(set);
    CHECK(contains(*set, "allowed_download_dirs"));
    add["download-dir"] = (h.dir / "allowed" / "tv").string();
    CHECK_FALSE(call("torrent-add", add));  // waits until the daemon says the job is stored
    REQUIRE(pending.size() == 1);
    pending[0]();
    REQUIRE(reply);
    CHECK(contains(*reply, "torrent-added"));
    CHECK(h.session->details(*sha1_from_hex(kSingleId)).status.download_dir ==
          h.dir / "allowed" / "tv");
}

namespace {

// torrent-get's reply as it was built before it was written as text: every status in a vector,
// one JSON tree of the old field functions, dumped. Syncs its own ids at the same moments as
// the RPC does (before each request), so both hand out the same ids.
struct TreeReply {
    TorrentIds ids;

    std::string operator()(TransmissionHarness& h, const json& args, const json& tag = nullptr) {
        ids.sync(*h.session, Clock::now());
        std::vector<std::string> fields;
        for (const auto& f : args["fields"])
            if (f.is_string() && torrent_fields().count(f.get<std::string>()))
                fields.push_back(f.get<std::string>());
        bool table = args.value("format", "objects") == "table";
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        auto selection = select_torrents(args, h.session->list(), ids, now);
        json torrents = json::array();
        if (table) torrents.push_back(fields);
        for (const auto& t : selection.torrents) {
            TorrentView view(*h.session, t, ids.id_of(t.id), t.queue_position);
            json row = table ? json::array() : json::object();
            for (const auto& f : fields) {
                auto value = torrent_fields().at(f)(view);
                if (table)
                    row.push_back(std::move(value));
                else
                    row[f] = std::move(value);
            }
            torrents.push_back(std::move(row));
        }
        json out = {{"torrents", std::move(torrents)}};
        if (selection.recently_active)
            out["removed"] = ids.removed_since(Clock::now() - kRecentlyActive);
        json reply = {{"result", "success"}, {"arguments", std::move(out)}};
        if (!tag.is_null()) reply["tag"] = tag;
        return dump_json(reply);
    }
};

std::string text_reply(TransmissionHarness& h, const json& args, const json& tag = nullptr) {
    json request = {{"method", "torrent-get"}, {"arguments", args}};
    if (!tag.is_null()) request["tag"] = tag;
    std::optional<std::string> reply;
    h.rpc.handle(request.dump(), [&](std::string r) { reply = std::move(r); });
    REQUIRE(reply.has_value());  // torrent-get answers at once
    return *reply;
}

// A single-file torrent, a multi-file one with a label, a hybrid with pad files and a skipped
// file, and a magnet whose name is not valid UTF-8.
void add_every_kind(TransmissionHarness& h) {
    h.add(kSingleTorrent);
    h.add(kMultiTorrent, {{"labels", {"tv", "x\"y"}}});
    h.add(kHybridTorrent, {{"files-unwanted", {1}}, {"priority-high", {0}}});
    h.ok("torrent-add",
         {{"filename", "magnet:?xt=urn:btih:" + std::string(40, 'a') + "&dn=bad%FF%C3name%0A"},
          {"paused", true}});
}

}  // namespace

TEST_CASE("transmission: torrent-get text is the old JSON tree's, field by field and together") {
    TransmissionHarness h;
    add_every_kind(h);
    TreeReply tree;
    std::vector<std::string> all;
    for (const auto& field : torrent_fields()) {
        std::string_view name = field.first;  // not a structured binding: CAPTURE is a lambda
        all.emplace_back(name);
        for (const char* format : {"objects", "table"}) {
            json args = {{"fields", {name}}, {"format", format}};
            CAPTURE(name);
            CAPTURE(format);
            CHECK(text_reply(h, args) == tree(h, args));
        }
    }
    REQUIRE(all.size() > 70);
    all.insert(all.begin(), {"name", "noSuchField", "id"});  // repeats and unknown names too
    for (const char* format : {"objects", "table"}) {
        json args = {{"fields", all}, {"format", format}};
        CAPTURE(format);
        CHECK(text_reply(h, args, 17) == tree(h, args, 17));
    }
    CHECK(text_reply(h, {{"fields", json::array()}}) == tree(h, {{"fields", json::array()}}));
    // The six fields a dashboard polls are written without a JSON value.
    for (const char* name :
         {"id", "name", "status", "percentDone", "rateDownload", "rateUpload", "labels"}) {
        bool written_as_text = torrent_field_writer(name) != nullptr;
        CAPTURE(name);
        CHECK(written_as_text);
    }
}

TEST_CASE("transmission: torrent-get ids and recently-active give the old tree's text") {
    TransmissionHarness h;
    add_every_kind(h);
    TreeReply tree;
    json fields = {"id", "name", "hashString", "status", "percentDone", "rateDownload"};
    for (const json& ids : {json(2), json(kMultiId), json{kSingleId, 3, 999}, json::array(),
                            json(999), json("recently-active"), json(nullptr)}) {
        json args = {{"fields", fields}, {"ids", ids}};
        CAPTURE(ids.dump());
        CHECK(text_reply(h, args) == tree(h, args));
    }
    h.ok("torrent-remove", {{"ids", {2}}});
    json recent = {{"fields", fields}, {"ids", "recently-active"}, {"format", "table"}};
    auto text = text_reply(h, recent);
    CHECK(text == tree(h, recent));
    CHECK(json::parse(text)["arguments"]["removed"] == json{2});
    CHECK(json::parse(text)["arguments"]["torrents"].size() == 4);  // the header and 3 torrents
    CHECK(contains(text_reply(h, {{"fields", fields}, {"ids", "nonsense"}}), "torrent-get: ids"));
}

TEST_CASE("transmission: recently-active leaves out torrents idle for a minute") {
    TransmissionHarness h;
    h.add(kSingleTorrent);
    TorrentIds ids;
    ids.sync(*h.session, Clock::now());
    auto status = h.session->list().at(0);
    TorrentFilter recent({{"ids", "recently-active"}}, ids);
    CHECK(recent.recently_active());
    CHECK(recent.selects(status, status.added_at + 10));  // just added
    CHECK_FALSE(recent.selects(status, status.added_at + kRecentlyActive.count() + 1));
    TorrentFilter by_id({{"ids", {1}}}, ids);
    CHECK(by_id.selects(status, status.added_at + 3600));
    CHECK_FALSE(TorrentFilter({{"ids", 2}}, ids).selects(status, status.added_at));
}

TEST_CASE("transmission: ids follow torrents removed and added outside the route") {
    TransmissionHarness h;
    h.add(kSingleTorrent);
    h.add(kMultiTorrent);
    CHECK(h.get({"id", "hashString"}, nullptr).size() == 2);
    // btd's own methods: as many torrents as before, one of them another.
    h.result("torrent.remove", {{"ids", {kSingleId}}});
    h.io.run_for(std::chrono::milliseconds(100));
    h.result("torrent.add",
             {{"metainfo", base64_encode(read_file(kHybridTorrent))}, {"paused", true}});
    auto got = h.get({"id", "hashString"}, nullptr);
    CHECK(got ==
          json{{{"hashString", kMultiId}, {"id", 2}}, {{"hashString", kHybridId}, {"id", 3}}});
    auto recent = h.ok("torrent-get", {{"fields", {"id"}}, {"ids", "recently-active"}});
    CHECK(recent["removed"] == json{1});
}
