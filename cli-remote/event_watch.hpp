#pragma once
// `btctl watch`: follows btd's `GET /events` (Server-Sent Events) and prints each event, until
// btd closes the stream. The SSE parser is pure, so it is tested without sockets.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace btd::btctl {

struct SseEvent {
    std::optional<std::uint64_t> id;  // from an `id:` line
    std::string type = "message";     // from `event:`
    std::string data;                 // `data:` lines joined by '\n'
};

// Feeds bytes as they arrive; returns the events completed by them (a blank line ends one).
// Comment lines (": keepalive") and `retry:` are skipped.
class SseParser {
  public:
    std::vector<SseEvent> feed(std::string_view bytes);

  private:
    void line(std::string_view text);
    std::string pending_;  // an incomplete line
    SseEvent current_;
    bool has_fields_ = false;
    std::vector<SseEvent> done_;
};

// One printed line: human ("12:00:01 completed  ubuntu.iso (3f2a1c9e)") or, with `json`,
// {"id":N|null,"event":"...","data":{...}}.
std::string format_event(const SseEvent& event, bool json);

// Connects to the events URL (the RPC URL with its path replaced by /events) and prints events
// to `out` until the stream ends. Throws CliError: unreachable, auth refused, or the stream
// ended (exit code unreachable: btd stopped).
void watch_events(const std::string& rpc_url, const std::optional<std::string>& token,
                  std::chrono::seconds connect_timeout, bool json, std::ostream& out);

}  // namespace btd::btctl
