#include <doctest/doctest.h>

#include <sstream>

#include "cli-remote/format.hpp"

using namespace btd::btctl;
using nlohmann::json;

TEST_CASE("sizes in binary units") {
    CHECK(human_size(0) == "0 B");
    CHECK(human_size(1023) == "1023 B");
    CHECK(human_size(1024) == "1.0 KiB");
    CHECK(human_size(1536) == "1.5 KiB");
    CHECK(human_size(10 * 1024 * 1024) == "10.0 MiB");
    CHECK(human_size(3LL * 1024 * 1024 * 1024 / 2) == "1.50 GiB");
    CHECK(human_size(5LL << 40) == "5.00 TiB");
    CHECK(human_size(-1) == "-");
    CHECK(human_rate(2048) == "2.0 KiB/s");
    CHECK(human_rate(0) == "0 B/s");
}

TEST_CASE("ETA") {
    CHECK(human_eta(-1) == "-");
    CHECK(human_eta(0) == "0s");
    CHECK(human_eta(59) == "59s");
    CHECK(human_eta(60) == "1m 00s");
    CHECK(human_eta(725) == "12m 05s");
    CHECK(human_eta(3720) == "1h 02m");
    CHECK(human_eta(86399) == "23h 59m");
    CHECK(human_eta(3 * 86400 + 4 * 3600 + 59) == "3d 04h");
    CHECK(human_eta(1000LL * 86400) == "long");
}

TEST_CASE("percent never rounds up to 100") {
    CHECK(human_percent(0) == "0.0%");
    CHECK(human_percent(0.457) == "45.7%");
    CHECK(human_percent(0.9999) == "99.9%");
    CHECK(human_percent(1) == "100.0%");
    CHECK(human_percent(1.5) == "100.0%");
    CHECK(human_percent(-1) == "0.0%");
}

TEST_CASE("UTF-8 aware truncation") {
    CHECK(truncate_display("short", 10) == "short");
    CHECK(truncate_display("exactly10!", 10) == "exactly10!");
    CHECK(truncate_display("a longer name here", 10) == "a longe...");
    // "é" is two bytes but one character; never cut in the middle.
    std::string accents = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";  // 6 x é
    CHECK(display_width(accents) == 6);
    auto cut = truncate_display(accents, 5);
    CHECK(cut == "\xC3\xA9\xC3\xA9...");
    CHECK(display_width(cut) == 5);
}

TEST_CASE("table columns are aligned") {
    auto t = format_table({{"A", "NUM"}, {"long cell", "5"}, {"x", "12345"}}, {false, true});
    std::istringstream lines(t);
    std::string l1, l2, l3;
    std::getline(lines, l1);
    std::getline(lines, l2);
    std::getline(lines, l3);
    CHECK(l1 == "A            NUM");
    CHECK(l2 == "long cell      5");
    CHECK(l3 == "x          12345");
}

TEST_CASE("torrent list table") {
    CHECK(format_torrent_list(json::array()) == "no torrents\n");
    json list = json::array({
        {{"id", "0123456789abcdef0123456789abcdef01234567"},
         {"name", "ubuntu-24.04-desktop-amd64.iso with a very long name indeed"},
         {"state", "downloading"},
         {"progress", 0.5},
         {"size", 6LL << 30},
         {"download_rate", 1048576},
         {"upload_rate", 0},
         {"peers", 12},
         {"eta", 3720}},
        {{"id", "fedcba9876543210fedcba9876543210fedcba98"},
         {"name", "small"},
         {"state", "seeding"},
         {"progress", 1.0},
         {"size", 100},
         {"download_rate", 0},
         {"upload_rate", 2048},
         {"peers", 3},
         {"eta", -1}},
    });
    auto out = format_torrent_list(list, 20);
    std::istringstream lines(out);
    std::vector<std::string> rows;
    for (std::string l; std::getline(lines, l);) rows.push_back(l);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].rfind("ID        NAME", 0) == 0);
    CHECK(rows[1].find("01234567  ubuntu-24.04-desk...") == 0);
    CHECK(rows[1].find("50.0%") != std::string::npos);
    CHECK(rows[1].find("6.00 GiB") != std::string::npos);
    CHECK(rows[1].find("1.0 MiB/s") != std::string::npos);
    CHECK(rows[1].find("1h 02m") != std::string::npos);
    CHECK(rows[2].find("fedcba98  small") == 0);
    CHECK(rows[2].find("2.0 KiB/s") != std::string::npos);
    // Every row has the same length: columns line up.
    CHECK(rows[0].size() == rows[1].size());
    CHECK(rows[1].size() == rows[2].size());
}

TEST_CASE("info lists each connected peer with where it came from") {
    auto info = format_torrent_info(
        {{"name", "x"},
         {"peers",
          {{{"address", "127.0.0.1:6881"}, {"source", "pex"}, {"progress", 1.0}, {"flags", "D"}},
           {{"address", "10.0.0.2:51413"}, {"source", "incoming"}, {"client", "Transmission"}}}}});
    auto at = info.find("Peers:\n");  // the section, not the count in the summary
    REQUIRE(at != std::string::npos);
    auto rows = info.substr(at);
    CHECK(rows.find("ADDRESS") != std::string::npos);
    CHECK(rows.find("127.0.0.1:6881  pex") != std::string::npos);
    CHECK(rows.find("10.0.0.2:51413  incoming") != std::string::npos);
    CHECK(rows.find("100.0%") != std::string::npos);
    CHECK(rows.find("Transmission") != std::string::npos);
    CHECK(format_torrent_info({{"peers", json::array()}}).find("Peers:\n") == std::string::npos);
}

TEST_CASE("info and stats show the DHT's nodes and lookups in flight, or that it is off") {
    json dht = {{"enabled", true}, {"nodes", 42}, {"lookups", 3}};
    auto stats = format_stats({{"torrents", 1}, {"dht", dht}});
    CHECK(stats.find("DHT:") != std::string::npos);
    CHECK(stats.find("42 nodes, 3 lookups in flight") != std::string::npos);
    auto info = format_torrent_info(
        {{"name", "x"}, {"state", "metadata"}, {"metadata_progress", 0.5}, {"dht", dht}});
    CHECK(info.find("42 nodes, 3 lookups in flight") != std::string::npos);
    CHECK(info.find("Metadata:") != std::string::npos);
    CHECK(info.find("50.0% fetched") != std::string::npos);
    CHECK(format_stats({{"dht", {{"enabled", false}}}}).find("off") != std::string::npos);
    CHECK(format_torrent_info({{"name", "x"}}).find("DHT:") == std::string::npos);
}

TEST_CASE("info and stats tolerate missing members") {
    auto info =
        format_torrent_info({{"name", "x"},
                             {"id", "ab"},
                             {"files", {{{"path", "x/a"}, {"size", 10}, {"progress", 1.0}}}},
                             {"trackers", {{{"url", "http://t/announce"}, {"tier", 0}}}}});
    CHECK(info.find("Name:") != std::string::npos);
    CHECK(info.find("x/a") != std::string::npos);
    CHECK(info.find("http://t/announce") != std::string::npos);
    CHECK_NOTHROW(format_torrent_info(json::object()));
    auto stats = format_stats({{"torrents", 3}, {"by_state", {{"seeding", 2}, {"paused", 1}}}});
    CHECK(stats.find("3 (paused 1, seeding 2)") != std::string::npos);
    CHECK_NOTHROW(format_stats(json::array()));
}

TEST_CASE("info shows the limits torrent.set changed, the idle limit too") {
    auto info = format_torrent_info(
        {{"name", "x"},
         {"limits",
          {{"download_rate_limit", nullptr}, {"ratio_limit", 1.5}, {"seed_idle_limit", 5400}}}});
    CHECK(info.find("ratio 1.50, idle 1h 30m") != std::string::npos);
    auto none = format_torrent_info({{"limits", {{"seed_idle_limit", 0}}}});
    CHECK(none.find("no idle limit") != std::string::npos);
    auto session = format_torrent_info({{"limits", {{"seed_idle_limit", nullptr}}}});
    CHECK(session.find("idle") == std::string::npos);  // null: the session's limit applies
}
