// rpc/transport: scopes and the method filter, named tokens on disk, browser sessions, cookie
// parsing, the Prometheus writer, and the event stream's history and slow-client drop.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rpc/transport/access.hpp"
#include "rpc/transport/event_stream.hpp"
#include "rpc/transport/prometheus.hpp"
#include "rpc/transport/token_store.hpp"
#include "rpc/transport/web_endpoints.hpp"
#include "rpc/transport/web_sessions.hpp"

using namespace btd::rpc;
using namespace btd::rpc::transport;
namespace fs = std::filesystem;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        auto templ = (fs::temp_directory_path() / "btd-transport-XXXXXX").string();
        path = ::mkdtemp(templ.data());
    }
    ~TempDir() { fs::remove_all(path); }
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("a read-only scope may call only the reading methods, and tokens need the admin") {
    auto read_only = method_filter(Scope::read_only);
    CHECK_FALSE(read_only("torrent.list"));
    CHECK_FALSE(read_only("session.stats"));
    for (auto method : {"torrent.pause", "torrent.add", "session.set", "daemon.shutdown",
                        "torrent.remove", "token.create"}) {
        auto refusal = read_only(method);
        REQUIRE(refusal);
        CHECK(refusal->code() == errc::not_permitted);
    }
    auto full = method_filter(Scope::full);
    CHECK_FALSE(full("torrent.pause"));
    REQUIRE(full("token.list"));
    CHECK(full("token.list")->code() == errc::not_permitted);
    CHECK_FALSE(method_filter(Scope::admin));  // no filter at all
}

TEST_CASE("named tokens are stored hashed, survive a restart and stop at revocation") {
    TempDir dir;
    auto file = dir.path / "tokens.json";
    std::string ro, full;
    {
        TokenStore store(file);
        ro = store.create("grafana", true);
        full = store.create("scripts", false);
        CHECK(ro.size() == 64);
        CHECK_THROWS_AS(store.create("grafana", false), std::invalid_argument);
        CHECK_THROWS_AS(store.create("has space", false), std::invalid_argument);
        CHECK_THROWS_AS(store.create("", false), std::invalid_argument);
    }
    auto content = read_file(file);
    CHECK(content.find(ro) == std::string::npos);
    CHECK(content.find(full) == std::string::npos);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    TokenStore again(file);
    CHECK(again.scope_of(ro) == Scope::read_only);
    CHECK(again.scope_of(full) == Scope::full);
    CHECK(again.scope_of("nope") == Scope::none);
    CHECK(again.scope_of("") == Scope::none);
    CHECK(again.token_name_of(ro) == "grafana");
    CHECK(again.revoke("grafana"));
    CHECK_FALSE(again.revoke("grafana"));
    CHECK(again.scope_of(ro) == Scope::none);
    CHECK(TokenStore(file).scope_of(ro) == Scope::none);
}

TEST_CASE("a corrupt token file is set aside and btd starts without tokens") {
    TempDir dir;
    auto file = dir.path / "tokens.json";
    std::ofstream(file) << "{not json";
    TokenStore store(file);
    CHECK(store.list().empty());
    CHECK_FALSE(fs::exists(file));
}

TEST_CASE("the admin secret, named tokens and sessions resolve to scopes") {
    auto tokens = std::make_shared<TokenStore>(fs::path());
    auto ro = tokens->create("ro", true);
    Access access(std::string(64, 'a'), tokens);
    CHECK(access.scope_of_authorization("Bearer " + std::string(64, 'a')) == Scope::admin);
    CHECK(access.scope_of_authorization("bearer " + ro) == Scope::read_only);
    CHECK(access.scope_of_authorization("Basic " + ro) == Scope::none);
    CHECK(access.scope_of_authorization("Bearer") == Scope::none);
    Access open(std::nullopt, nullptr);
    CHECK(open.scope_of_token("anything") == Scope::admin);
}

TEST_CASE("sessions expire, are bounded, and end with their token") {
    auto now = std::chrono::steady_clock::time_point{};
    WebSessions sessions([&] { return now; });
    const auto& s = sessions.create(Scope::read_only, "dash");
    auto id = s.id;
    auto csrf = s.csrf;
    CHECK(id != csrf);
    REQUIRE(sessions.find(id));
    CHECK(csrf_matches(*sessions.find(id), csrf));
    CHECK_FALSE(csrf_matches(*sessions.find(id), ""));
    CHECK_FALSE(csrf_matches(*sessions.find(id), id));
    now += WebSessions::kLifetime;
    CHECK_FALSE(sessions.find(id));

    auto kept = sessions.create(Scope::full, "").id;
    sessions.create(Scope::full, "dash");
    sessions.remove_for_token("dash");
    CHECK(sessions.size() == 1);
    CHECK(sessions.find(kept));
    for (std::size_t i = 0; i < WebSessions::kMaxSessions + 10; ++i)
        sessions.create(Scope::full, "");
    CHECK(sessions.size() == WebSessions::kMaxSessions);
}

TEST_CASE("cookie values and same-origin checks") {
    CHECK(cookie_value("a=1; btd_session=xyz; b=2", "btd_session") == "xyz");
    CHECK(cookie_value("btd_session_x=1", "btd_session").empty());
    CHECK(cookie_value("", "btd_session").empty());
    CHECK(same_origin("http://127.0.0.1:9092", "127.0.0.1:9092"));
    CHECK(same_origin("HTTP://LocalHost:9092", "localhost:9092"));
    CHECK_FALSE(same_origin("http://127.0.0.1:9093", "127.0.0.1:9092"));
    CHECK_FALSE(same_origin("https://127.0.0.1:9092", "127.0.0.1:9092"));
    CHECK_FALSE(same_origin("null", "127.0.0.1:9092"));
    CHECK_FALSE(same_origin("", ""));
}

TEST_CASE("the Prometheus writer escapes label values") {
    PromText out;
    out.family("x_total", "counter", "Things.");
    out.sample("x_total", {{"name", "a\"b\\c\nd"}}, 3);
    out.sample("y", 0.25);
    CHECK(out.text() ==
          "# HELP x_total Things.\n# TYPE x_total counter\n"
          "x_total{name=\"a\\\"b\\\\c\\nd\"} 3\ny 0.25\n");
}

namespace {

// A raw client of an EventStream: connects, and reads what arrives until `marker` or timeout.
struct StreamPair {
    asio::io_context io;
    std::shared_ptr<EventStream> stream;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};

    explicit StreamPair(EventStreamOptions options)
        : stream(std::make_shared<EventStream>(io, options)) {}

    // A connected client socket whose server side the stream owns.
    tcp::socket attach(std::optional<std::uint64_t> last_id, int rcvbuf = 0) {
        tcp::socket client(io);
        client.open(tcp::v4());
        if (rcvbuf) client.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
        client.connect(acceptor.local_endpoint());
        stream->attach(acceptor.accept(), last_id);
        return client;
    }

    std::string read_until(tcp::socket& client, const std::string& marker) {
        std::string got;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        client.non_blocking(true);
        while (got.find(marker) == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            io.poll();
            char buffer[65536];
            boost::system::error_code ec;
            auto n = client.read_some(asio::buffer(buffer), ec);
            if (ec == asio::error::would_block) {
                io.run_for(std::chrono::milliseconds(5));
                continue;
            }
            if (ec) break;
            got.append(buffer, n);
        }
        return got;
    }
};

}  // namespace

TEST_CASE("events carry ids and a reconnect with Last-Event-ID gets what it missed") {
    StreamPair pair({});
    auto first = pair.stream->publish("torrent-added", {{"id", "a"}});
    pair.stream->publish("state-changed", {{"id", "a"}, {"state", "downloading"}});
    pair.stream->publish("completed", {{"id", "a"}});
    auto client = pair.attach(first);
    auto got = pair.read_until(client, "event: completed");
    CHECK(got.find("HTTP/1.1 200 OK") == 0);
    CHECK(got.find("text/event-stream") != std::string::npos);
    CHECK(got.find("event: torrent-added") == std::string::npos);
    CHECK(got.find("id: 2\nevent: state-changed\ndata: {\"id\":\"a\",\"state\":\"downloading\"}") !=
          std::string::npos);
    CHECK(got.find("id: 3\nevent: completed") != std::string::npos);

    auto fresh = pair.attach(std::nullopt);  // no id: only what comes next
    pair.stream->publish("removed", {{"id", "a"}});
    auto live = pair.read_until(fresh, "event: removed");
    CHECK(live.find("event: completed") == std::string::npos);
    CHECK(live.find("id: 4\nevent: removed") != std::string::npos);
}

TEST_CASE("a Last-Event-ID the history no longer holds gets a reset event") {
    EventStreamOptions options;
    options.history = 2;
    StreamPair pair(options);
    for (int i = 0; i < 5; ++i) pair.stream->publish("state-changed", {{"i", i}});
    auto client = pair.attach(1);  // ids 2 and 3 are gone
    CHECK(pair.read_until(client, "event: reset").find("event: reset") != std::string::npos);
    auto future = pair.attach(99);  // from before a restart
    CHECK(pair.read_until(future, "event: reset").find("event: reset") != std::string::npos);
}

TEST_CASE("a client that does not read is dropped; the others keep receiving") {
    EventStreamOptions options;
    options.client_buffer_bytes = 64 * 1024;
    StreamPair pair(options);
    auto slow = pair.attach(std::nullopt, 4096);  // never read below
    auto fast = pair.attach(std::nullopt);
    CHECK(pair.stream->client_count() == 2);
    std::string payload(8 * 1024, 'x');
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 400 && pair.stream->client_count() == 2; ++i) {
        pair.stream->publish("state-changed", {{"pad", payload}, {"z", i}});
        pair.read_until(fast, "\"z\":" + std::to_string(i) + "}");
    }
    CHECK(pair.stream->client_count() == 1);
    CHECK(pair.stream->dropped_clients() == 1);
    // Publishing never waited for the slow client.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
    pair.stream->publish("completed", {{"id", "z"}});
    CHECK(pair.read_until(fast, "event: completed").find("event: completed") != std::string::npos);
}

TEST_CASE("a stats snapshot goes out at most once per interval, and null sends nothing") {
    EventStreamOptions options;
    options.stats_interval = std::chrono::milliseconds(50);
    StreamPair pair(options);
    int calls = 0;
    pair.stream->set_stats_source([&]() -> nlohmann::json {
        ++calls;
        if (calls == 1) return nullptr;
        return {{"download_rate", calls}};
    });
    auto client = pair.attach(std::nullopt);
    auto got = pair.read_until(client, "event: stats");
    CHECK(got.find("event: stats\ndata: {\"download_rate\":2}") != std::string::npos);
    CHECK(got.find("id:") == std::string::npos);  // snapshots are not replayable
}
