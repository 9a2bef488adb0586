#include "core/tracker/announcer.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/tracker/tier_list.hpp"
#include "core/tracker/tracker_client.hpp"
#include "core/tracker/tracker_context.hpp"

namespace btd::tracker {
namespace {

using Clock = std::chrono::steady_clock;
using boost::system::error_code;

struct TrackerEntry {
    TrackerStatus status;
    bool started_sent = false;  // this tracker knows us; later announces carry no `started`
    std::string tracker_id;     // BEP 3 "tracker id", echoed back to the same tracker
};

}  // namespace

struct Announcer::Impl : std::enable_shared_from_this<Impl> {
    Impl(TrackerContext& context, const std::vector<std::vector<std::string>>& tier_urls,
         const Sha1Hash& hash, const PeerId& id, PortProvider port, TotalsProvider totals_fn,
         PeersHandler peers_fn)
        : ctx(context),
          settings(context.state().settings),
          tiers(tier_urls, context.state().rng),
          info_hash(hash),
          peer_id(id),
          listen_port(std::move(port)),
          totals(std::move(totals_fn)),
          on_peers(std::move(peers_fn)),
          key(context.state().random_u32()),
          timer(context.io()),
          stop_guard(context.io()) {
        entries.resize(tiers.size());
        for (std::size_t i = 0; i < tiers.size(); ++i) {
            entries[i].status.url = tiers.url(i);
            entries[i].status.tier = tiers.tier_of(i);
            entries[i].status.state = "idle";
        }
    }

    TrackerContext& ctx;
    const TrackerSettings& settings;
    TierList tiers;
    std::vector<TrackerEntry> entries;
    Sha1Hash info_hash;
    PeerId peer_id;
    PortProvider listen_port;
    TotalsProvider totals;
    PeersHandler on_peers;
    std::uint32_t key;
    boost::asio::steady_timer timer;
    boost::asio::steady_timer stop_guard;

    bool running = false;
    bool stopping = false;
    bool completed_pending = false;
    unsigned generation = 0;  // bumped to disown in-flight results and timers
    std::shared_ptr<PendingRequest> in_flight;
    std::shared_ptr<PendingRequest> scrape_in_flight;
    std::vector<std::size_t> round;  // attempt order for the current round
    std::size_t round_pos = 0;
    int failed_rounds = 0;
    std::optional<std::size_t> working;  // tracker that answered last
    Clock::time_point next_announce_at{};
    Clock::time_point earliest_announce_at{};  // last success + min interval
    std::vector<std::function<void()>> stop_done;
    int stops_outstanding = 0;

    std::weak_ptr<Impl> weak() { return weak_from_this(); }

    void start() {
        if (running || stopping) return;
        running = true;
        begin_round();
    }

    void disown_in_flight() {
        ++generation;
        timer.cancel();
        if (in_flight) in_flight->cancel();
        in_flight.reset();
    }

    void begin_round() {
        if (!running || in_flight || tiers.empty()) return;
        round = tiers.attempt_order();
        round_pos = 0;
        try_next();
    }

    Event event_for(const TrackerEntry& e) const {
        if (!e.started_sent) return Event::started;
        return completed_pending ? Event::completed : Event::none;
    }

    AnnounceParams params_for(const TrackerEntry& e, Event event) const {
        AnnounceParams p;
        p.info_hash = info_hash;
        p.peer_id = peer_id;
        p.port = listen_port ? listen_port() : 0;
        if (totals) {
            TransferTotals t = totals();
            p.uploaded = std::max<std::int64_t>(t.uploaded, 0);
            p.downloaded = std::max<std::int64_t>(t.downloaded, 0);
            p.left = std::max<std::int64_t>(t.left, 0);
        }
        p.event = event;
        p.numwant = event == Event::stopped ? 0 : settings.numwant;
        p.key = key;
        p.tracker_id = e.tracker_id;
        return p;
    }

    void try_next() {
        if (round_pos >= round.size()) return round_failed();
        std::size_t id = round[round_pos];
        TrackerEntry& e = entries[id];
        e.status.state = "announcing";
        Event event = event_for(e);
        in_flight =
            send_announce(ctx, e.status.url, params_for(e, event), std::nullopt,
                          [weak = weak(), gen = generation, id, event](AnnounceOutcome outcome) {
                              if (auto self = weak.lock())
                                  self->on_announce(gen, id, event, std::move(outcome));
                          });
    }

    void on_announce(unsigned gen, std::size_t id, Event event, AnnounceOutcome outcome) {
        if (gen != generation || !running) return;
        in_flight.reset();
        TrackerEntry& e = entries[id];
        if (!outcome.ok()) {
            e.status.state = "error";
            e.status.message = outcome.error;
            e.status.next_announce_in_s = -1;
            ++round_pos;
            return try_next();
        }
        const AnnounceResponse& r = outcome.response;
        e.status.state = "working";
        e.status.message = r.warning;
        if (r.seeders >= 0) e.status.seeders = r.seeders;
        if (r.leechers >= 0) e.status.leechers = r.leechers;
        e.status.peers_received = static_cast<int>(r.peers.size());
        if (!r.tracker_id.empty()) e.tracker_id = r.tracker_id;
        e.started_sent = true;
        if (event == Event::completed || event == Event::started) completed_pending = false;
        tiers.promote(id);
        working = id;
        failed_rounds = 0;
        auto now = Clock::now();
        earliest_announce_at = now + r.min_interval.value_or(std::min<std::chrono::seconds>(
                                         settings.default_min_interval, r.interval));
        schedule(r.interval);
        if (!r.peers.empty() && on_peers) on_peers(r.peers);  // last: it may destroy the Announcer
    }

    void round_failed() {
        working.reset();
        int doublings = std::min(failed_rounds, 16);
        ++failed_rounds;
        auto delay = std::min<std::chrono::seconds>(settings.retry_base * (1LL << doublings),
                                                    settings.retry_max);
        schedule(delay);
    }

    void schedule(Clock::duration delay) {
        next_announce_at = Clock::now() + delay;
        timer.expires_after(delay);
        timer.async_wait([weak = weak(), gen = generation](error_code ec) {
            auto self = weak.lock();
            if (ec || !self || gen != self->generation) return;
            self->begin_round();
        });
    }

    // Re-announce as soon as the tracker allows (min interval), unless one is due sooner anyway.
    void announce_soon() {
        if (!running) return;
        bool restarted = false;
        if (in_flight) {
            disown_in_flight();
            restarted = true;
            for (auto& e : entries)
                if (e.status.state == "announcing") e.status.state = "idle";
        }
        auto now = Clock::now();
        auto target = std::max(now, earliest_announce_at);
        if (!restarted && target >= next_announce_at) return;
        ++generation;  // the old timer must not start a second round
        if (target <= now)
            boost::asio::post(ctx.io(), [weak = weak(), gen = generation] {
                if (auto self = weak.lock(); self && gen == self->generation) self->begin_round();
            });
        else
            schedule(target - now);
    }

    void completed() {
        completed_pending = true;
        // `completed` should not wait for the min interval: it is a one-off state change.
        earliest_announce_at = {};
        announce_soon();
    }

    void stop(std::function<void()> done) {
        if (done) stop_done.push_back(std::move(done));
        if (stopping) return;  // the running stop will call every done()
        stopping = true;
        running = false;
        disown_in_flight();
        if (scrape_in_flight) scrape_in_flight->cancel();
        auto self = shared_from_this();  // a stop runs to its end even if the Announcer goes away
        for (std::size_t id = 0; id < entries.size(); ++id) {
            TrackerEntry& e = entries[id];
            if (!e.started_sent) continue;
            ++stops_outstanding;
            send_announce(ctx, e.status.url, params_for(e, Event::stopped), settings.stop_timeout,
                          [self, id](AnnounceOutcome outcome) {
                              TrackerEntry& entry = self->entries[id];
                              entry.status.state = outcome.ok() ? "idle" : "error";
                              entry.status.message = outcome.error;
                              entry.status.next_announce_in_s = -1;
                              if (--self->stops_outstanding == 0) self->finish_stop();
                          });
        }
        for (auto& e : entries)
            if (e.status.state != "error") e.status.state = "idle";
        if (stops_outstanding == 0) {
            boost::asio::post(ctx.io(), [self] { self->finish_stop(); });
            return;
        }
        // Belt and braces: done() must come even if a request outlives its own deadline.
        stop_guard.expires_after(settings.stop_timeout + std::chrono::milliseconds(500));
        stop_guard.async_wait([self](error_code ec) {
            if (!ec) self->finish_stop();
        });
    }

    void finish_stop() {
        stop_guard.cancel();
        auto callbacks = std::move(stop_done);
        stop_done.clear();
        for (auto& done : callbacks) done();
    }

    void scrape() {
        if (tiers.empty() || scrape_in_flight) return;
        std::size_t id = working.value_or(tiers.preferred());
        scrape_in_flight = send_scrape(ctx, entries[id].status.url, info_hash, std::nullopt,
                                       [weak = weak(), id](ScrapeOutcome outcome) {
                                           auto self = weak.lock();
                                           if (!self) return;
                                           self->scrape_in_flight.reset();
                                           if (!outcome.ok()) return;  // scrape is optional
                                           TrackerStatus& s = self->entries[id].status;
                                           if (outcome.info.seeders >= 0)
                                               s.seeders = outcome.info.seeders;
                                           if (outcome.info.leechers >= 0)
                                               s.leechers = outcome.info.leechers;
                                       });
    }

    std::vector<TrackerStatus> status() const {
        std::vector<TrackerStatus> out;
        auto now = Clock::now();
        for (std::size_t id = 0; id < entries.size(); ++id) {
            TrackerStatus s = entries[id].status;
            if (running && working == id && !in_flight)
                s.next_announce_in_s = std::max<std::int64_t>(
                    0, std::chrono::duration_cast<std::chrono::seconds>(next_announce_at - now)
                           .count());
            out.push_back(std::move(s));
        }
        return out;
    }

    // The Announcer is going away: forget everything except a stop already under way.
    void detach() {
        if (stopping) return;
        running = false;
        disown_in_flight();
        if (scrape_in_flight) scrape_in_flight->cancel();
    }
};

Announcer::Announcer(TrackerContext& ctx, std::vector<std::vector<std::string>> tiers,
                     const Sha1Hash& info_hash, const PeerId& peer_id, PortProvider listen_port,
                     TotalsProvider totals, PeersHandler on_peers)
    : impl_(std::make_shared<Impl>(ctx, tiers, info_hash, peer_id, std::move(listen_port),
                                   std::move(totals), std::move(on_peers))) {}

Announcer::~Announcer() {  // NOLINT(bugprone-exception-escape): see the header
    impl_->detach();
}

void Announcer::start() {
    impl_->start();
}
void Announcer::completed() {
    impl_->completed();
}
void Announcer::stop(std::function<void()> done) {
    impl_->stop(std::move(done));
}
void Announcer::reannounce_now() {
    if (!impl_->in_flight) impl_->announce_soon();  // an answer is on its way already
}
std::chrono::steady_clock::time_point Announcer::manual_announce_at() const {
    return std::max(Clock::now(), impl_->earliest_announce_at);
}
void Announcer::scrape() {
    impl_->scrape();
}
std::vector<TrackerStatus> Announcer::status() const {
    return impl_->status();
}

}  // namespace btd::tracker
