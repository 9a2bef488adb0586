#include "cli-remote/event_watch.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli-remote/cli_error.hpp"
#include "rpc/transport/json_parse.hpp"
#include "rpc/transport/url.hpp"

namespace btd::btctl {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using nlohmann::json;

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxLineBytes = 4 * 1024 * 1024;

std::string clock_now() {
    auto now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    return text;
}

std::string rate_text(std::int64_t bytes_per_s) {
    const char* units[] = {"B/s", "KiB/s", "MiB/s", "GiB/s"};
    double value = static_cast<double>(bytes_per_s);
    int unit = 0;
    while (value >= 1024 && unit < 3) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
    return text;
}

std::string human_line(const SseEvent& event, const json& data) {
    std::string line = clock_now() + " " + event.type;
    if (event.type == "stats") {
        line += "  down " + rate_text(data.value("download_rate", 0LL)) + ", up " +
                rate_text(data.value("upload_rate", 0LL)) + ", " +
                std::to_string(data.value("torrents", 0)) + " torrents, " +
                std::to_string(data.value("peers", 0)) + " peers";
        return line;
    }
    if (data.contains("name")) line += "  " + data.value("name", std::string());
    if (data.contains("id")) line += " (" + data.value("id", std::string()).substr(0, 8) + ")";
    if (data.contains("state")) line += ": " + data.value("state", std::string());
    if (data.contains("message")) line += ": " + data.value("message", std::string());
    if (data.contains("reason")) line += ": " + data.value("reason", std::string());
    return line;
}

}  // namespace

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
    pending_.append(bytes);
    std::size_t start = 0;
    for (;;) {
        auto end = pending_.find('\n', start);
        if (end == std::string::npos) break;
        auto text = std::string_view(pending_).substr(start, end - start);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        line(text);
        start = end + 1;
    }
    pending_.erase(0, start);
    if (pending_.size() > kMaxLineBytes)
        throw CliError(exit_code::failure, "btd sent an event line longer than 4 MiB");
    return std::exchange(done_, {});
}

void SseParser::line(std::string_view text) {
    if (text.empty()) {
        if (has_fields_) done_.push_back(std::exchange(current_, {}));
        has_fields_ = false;
        return;
    }
    if (text.front() == ':') return;
    auto colon = text.find(':');
    auto field = text.substr(0, colon);
    auto value = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "id") {
        std::uint64_t id = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
        if (ec == std::errc{} && end == value.data() + value.size()) current_.id = id;
    } else if (field == "event") {
        current_.type = value;
    } else if (field == "data") {
        if (!current_.data.empty()) current_.data += '\n';
        current_.data += value;
    } else {
        return;  // retry: and unknown fields
    }
    has_fields_ = true;
}

std::string format_event(const SseEvent& event, bool as_json) {
    auto data = rpc::parse_json_limited(event.data, 64);
    json value = data ? std::move(*data) : json(event.data);
    if (!as_json) return human_line(event, value);
    json out = {{"id", event.id ? json(*event.id) : json(nullptr)},
                {"event", event.type},
                {"data", std::move(value)}};
    return rpc::dump_json(out);
}

namespace {

// The RPC URL's path with its last part replaced: http://h:p/rpc -> /events, and a prefix a
// proxy adds is kept (/btd/rpc -> /btd/events).
std::string events_path(const rpc::Url& url) {
    auto path = url.target.substr(0, url.target.find('?'));
    return path.substr(0, path.rfind('/')) + "/events";
}

std::string request_text(const rpc::Url& url, const std::optional<std::string>& token) {
    std::string request = "GET " + events_path(url) + " HTTP/1.1\r\nHost: " + url.host_header() +
                          "\r\nUser-Agent: btctl\r\nAccept: text/event-stream\r\n";
    if (token) request += "Authorization: Bearer " + *token + "\r\n";
    return request + "Connection: close\r\n\r\n";
}

void check_status(const std::string& head, const std::string& url) {
    auto first = head.substr(0, head.find("\r\n"));
    auto space = first.find(' ');
    int status = space == std::string::npos ? 0 : std::atoi(first.c_str() + space + 1);
    if (status == 200) return;
    if (status == 401)
        throw CliError(exit_code::auth,
                       "btd refused the token (HTTP 401): use --token, or --state-dir for the "
                       "daemon's state dir that holds rpc.secret");
    if (status == 404)
        throw CliError(exit_code::failure, "btd at " + url + " has no event stream (HTTP 404)");
    throw CliError(exit_code::failure, "btd answered " + first + " for " + url);
}

}  // namespace

void watch_events(const std::string& rpc_url, const std::optional<std::string>& token,
                  std::chrono::seconds connect_timeout, bool as_json, std::ostream& out) {
    auto url = rpc::parse_http_url(rpc_url);
    if (!url || url->scheme != "http")
        throw usage_error("--rpc must be an http:// URL such as http://127.0.0.1:9092/rpc");
    std::string events_url = "http://" + url->host_header() + events_path(*url);
    asio::io_context io;
    tcp::socket socket(io);
    try {
        tcp::resolver resolver(io);
        asio::connect(socket, resolver.resolve(url->host, std::to_string(url->port)));
        asio::write(socket, asio::buffer(request_text(*url, token)));
    } catch (const boost::system::system_error& e) {
        throw CliError(exit_code::unreachable,
                       "cannot reach btd at " + events_url + ": " + e.code().message());
    }
    (void)connect_timeout;  // connecting to a local address fails or succeeds at once
    std::string buffer;
    boost::system::error_code ec;
    auto header_end =
        asio::read_until(socket, asio::dynamic_buffer(buffer, kMaxHeaderBytes), "\r\n\r\n", ec);
    if (ec)
        throw CliError(exit_code::unreachable, "btd closed " + events_url + ": " + ec.message());
    check_status(buffer.substr(0, header_end), events_url);
    SseParser parser;
    auto print = [&](std::string_view bytes) {
        for (const auto& event : parser.feed(bytes)) out << format_event(event, as_json) << "\n";
        out.flush();
    };
    print(std::string_view(buffer).substr(header_end));
    std::array<char, 16 * 1024> chunk{};
    for (;;) {
        auto n = socket.read_some(asio::buffer(chunk), ec);
        if (ec) break;
        print(std::string_view(chunk.data(), n));
    }
    throw CliError(exit_code::unreachable, "btd closed the event stream (" + ec.message() + ")");
}

}  // namespace btd::btctl
