#include "core/session/session_dht.hpp"

#include "core/session/session_impl.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace btd {

namespace {

struct HostPort {
    std::string host;
    std::string port;
    std::uint16_t number = 0;
};

// "host:port" or "[v6]:port"; nullopt (logged by the caller) for anything else.
std::optional<HostPort> split_host_port(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
    std::string host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']' || host.size() < 3) return std::nullopt;
        host = host.substr(1, host.size() - 2);
    }
    auto port = text.substr(colon + 1);
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    auto number = std::stoul(port);
    if (number == 0 || number > 65535) return std::nullopt;
    return HostPort{host, port, static_cast<std::uint16_t>(number)};
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return {};
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Written to a temporary name and renamed: a crash leaves the old table or the new one.
std::string write_file(const std::filesystem::path& file, const std::string& bytes) {
    auto tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) return "cannot write " + tmp.string();
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    return ec ? "cannot rename " + tmp.string() + ": " + ec.message() : "";
}

std::filesystem::path v6_file(const std::filesystem::path& file) {
    auto out = file;
    out += "6";
    return out;
}

}  // namespace

SessionDht::SessionDht(boost::asio::io_context& io, Hooks hooks)
    : io_(io), hooks_(std::move(hooks)), resolver_(io) {}

SessionDht::~SessionDht() {
    *alive_ = false;
    resolver_.cancel();
}

void SessionDht::configure(bool on, const std::string& listen_address, std::uint16_t port,
                           const std::vector<std::string>& bootstrap,
                           const std::filesystem::path& file) {
    bool same = on == on_ && listen_address == listen_address_ && port == port_ &&
                bootstrap == bootstrap_ && file == file_;
    if (same) return;
    shutdown();
    on_ = on;
    listen_address_ = listen_address;
    port_ = port;
    bootstrap_ = bootstrap;
    file_ = file;
    if (!on_) return;
    auto generation = ++generation_;
    if (file_.empty()) return open(std::nullopt, std::nullopt);
    auto load = [this, generation](const std::filesystem::path& file, std::string blob) {
        auto saved = dht::load_routing_table(blob);
        if (!blob.empty() && !saved)
            spdlog::warn("dht: {} is damaged; starting with an empty table", file.string());
        return generation == generation_ ? saved : std::nullopt;
    };
    hooks_.on_disk([file = file_] { return read_file(file); },
                   [this, generation, load](std::string blob4) {
                       if (generation != generation_) return;
                       auto saved4 = load(file_, std::move(blob4));
                       hooks_.on_disk([file = v6_file(file_)] { return read_file(file); },
                                      [this, generation, load, saved4](std::string blob6) {
                                          if (generation != generation_) return;
                                          open(saved4, load(v6_file(file_), std::move(blob6)));
                                      });
                   });
}

void SessionDht::open(std::optional<dht::SavedRoutingTable> saved4,
                      std::optional<dht::SavedRoutingTable> saved6) {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(listen_address_, ec);
    if (ec) address = boost::asio::ip::address_v4::any();
    if (address.is_v4()) {
        open_family({address, port_}, saved4);
        open_family({boost::asio::ip::address_v6::any(), port_}, saved6 ? saved6 : saved4);
    } else {
        open_family({address, port_}, saved6 ? saved6 : saved4);
    }
    if (nodes_.empty()) return;
    spdlog::info("dht: node {} on UDP port {} ({} saved nodes)", to_hex(nodes_[0]->id()), port_,
                 (saved4 ? saved4->nodes.size() : 0) + (saved6 ? saved6->nodes.size() : 0));
    next_save_ = Clock::now() + kSaveInterval;
    bootstrap_all();
}

void SessionDht::open_family(const dht::Endpoint& local,
                             std::optional<dht::SavedRoutingTable> saved) {
    auto peers_found = [this](const dht::NodeId& info_hash, std::vector<dht::Endpoint> peers) {
        hooks_.peers_found(info_hash, std::move(peers));
    };
    try {
        nodes_.push_back(std::make_unique<dht::DhtNode>(io_, local, std::move(saved), peers_found));
    } catch (const boost::system::system_error& e) {
        // IPv6 is a bonus (BEP 32): a host without it still has the IPv4 DHT.
        auto level =
            local.address().is_v6() && !nodes_.empty() ? spdlog::level::debug : spdlog::level::warn;
        spdlog::log(level, "dht: cannot open UDP {}: {}", local.address().to_string(), e.what());
    }
}

// IP literals are used at once; names are resolved asynchronously, each on its own.
void SessionDht::bootstrap_all() {
    std::vector<dht::Endpoint> literal;
    auto generation = generation_;
    for (const auto& text : bootstrap_) {
        auto hp = split_host_port(text);
        if (!hp) {
            spdlog::warn("dht: bootstrap node '{}' is not HOST:PORT; skipped", text);
            continue;
        }
        boost::system::error_code ec;
        auto address = boost::asio::ip::make_address(hp->host, ec);
        if (!ec) {
            literal.emplace_back(address, hp->number);
            continue;
        }
        resolver_.async_resolve(
            hp->host, hp->port,
            [this, generation, alive = std::weak_ptr<bool>(alive_), name = text](
                const boost::system::error_code& error,
                boost::asio::ip::udp::resolver::results_type results) {
                if (!alive.lock() || generation != generation_) return;
                if (error) return spdlog::info("dht: cannot resolve {}: {}", name, error.message());
                std::vector<dht::Endpoint> found;
                for (const auto& r : results) found.push_back(r.endpoint());
                bootstrap_with(found);
            });
    }
    bootstrap_with(literal);  // also starts from the saved nodes when there is no router
}

void SessionDht::bootstrap_with(const std::vector<dht::Endpoint>& routers) {
    for (auto& node : nodes_) node->bootstrap(routers);
}

void SessionDht::tick() {
    if (nodes_.empty()) return;
    auto now = Clock::now();
    announce_due(now);
    if (now >= next_save_) {
        next_save_ = now + kSaveInterval;
        save();
    }
}

// Every active public job is looked up (and we announce ourselves) every 15 minutes; a lookup
// that found nobody is retried sooner, a lookup that could not start is retried next second.
void SessionDht::announce_due(Clock::time_point now) {
    auto active = hooks_.active_info_hashes();
    std::erase_if(next_lookup_, [&](const auto& entry) {
        return std::find(active.begin(), active.end(), entry.first) == active.end();
    });
    for (const auto& info_hash : active) {
        auto it = next_lookup_.find(info_hash);
        if (it != next_lookup_.end() && it->second > now) continue;
        start_lookup(info_hash, now);
    }
}

void SessionDht::look_up_now(const Sha1Hash& info_hash) {
    if (!nodes_.empty()) start_lookup(info_hash, Clock::now());
}

// Found peers reach the job from every reply (DhtNode's PeersFound), not at the lookup's end.
void SessionDht::start_lookup(const Sha1Hash& info_hash, Clock::time_point now) {
    bool started = false;
    for (auto& node : nodes_) {
        auto done = [this, info_hash](std::size_t found) {
            auto wait = found ? Clock::duration(kAnnounceInterval) : kRetryWhenNoPeers;
            if (auto entry = next_lookup_.find(info_hash); entry != next_lookup_.end())
                entry->second = std::min(entry->second, Clock::now() + wait);
        };
        started |= node->get_peers(info_hash, 0, done);  // 0: implied port (the UDP port)
    }
    // While running, the lookup's end sets the next time.
    if (started) next_lookup_[info_hash] = now + kAnnounceInterval;
}

void SessionDht::save() {
    if (file_.empty() || nodes_.empty()) return;
    for (const auto& node : nodes_) {
        auto file = node->ipv6() ? v6_file(file_) : file_;
        hooks_.on_disk([file, blob = node->save()] { return write_file(file, blob); },
                       [file](std::string error) {
                           if (!error.empty()) spdlog::warn("dht: {}", error);
                       });
    }
}

void SessionDht::shutdown() {
    save();
    ++generation_;
    resolver_.cancel();
    nodes_.clear();
    next_lookup_.clear();
}

SessionDhtStats SessionDht::stats() const {
    SessionDhtStats s;
    s.enabled = on_;
    for (const auto& node : nodes_) {
        auto st = node->stats();
        s.nodes += static_cast<int>(st.nodes);
        s.lookups += static_cast<int>(st.lookups);
    }
    return s;
}

}  // namespace btd

// ---- The glue to Session::Impl -------------------------------------------------------------

namespace btd {

std::vector<Sha1Hash> Session::Impl::active_info_hashes() const {
    std::vector<Sha1Hash> out;
    for (const auto& id : awake)  // a running torrent is never idle, so never asleep
        if (auto t = torrents.find(id);
            t != torrents.end() && t->second->accepting() && !t->second->metainfo().is_private)
            out.push_back(id);
    for (const auto& [id, m] : magnets)  // still fetching metadata: the DHT may know peers
        if (m.job->status().state == TorrentState::downloading_metadata) out.push_back(id);
    return out;
}

bool Session::Impl::dht_wanted(const Sha1Hash& id) const {
    if (auto it = torrents.find(id); it != torrents.end())
        return it->second->accepting() && !it->second->metainfo().is_private;
    auto* m = magnet(id);
    return m && m->job->status().state == TorrentState::downloading_metadata;
}

// Posted: the job that changed state may not be running yet (a magnet emits before start()).
void Session::Impl::look_up_when_started(const StateChangedEvent& change, const Sha1Hash& id) {
    auto running = [](TorrentState s) {
        return s == TorrentState::downloading || s == TorrentState::seeding ||
               s == TorrentState::downloading_metadata;
    };
    if (!running(change.new_state) || running(change.old_state)) return;
    boost::asio::post(ctx.io, [this, id, alive = std::weak_ptr<bool>(alive)] {
        if (alive.lock() && !shutting_down && dht_wanted(id)) dht.look_up_now(id);
    });
}

SessionDht::Hooks Session::Impl::dht_hooks() {
    SessionDht::Hooks hooks;
    hooks.active_info_hashes = [this] { return active_info_hashes(); };
    hooks.peers_found = [this](const Sha1Hash& info_hash, std::vector<dht::Endpoint> peers) {
        std::vector<boost::asio::ip::tcp::endpoint> endpoints;
        endpoints.reserve(peers.size());
        for (const auto& p : peers) endpoints.emplace_back(p.address(), p.port());
        deliver_peers(info_hash, endpoints, PeerSource::dht);
    };
    hooks.on_disk = [this](std::function<std::string()> work,
                           std::function<void(std::string)> then) {
        on_disk(std::move(work), std::move(then));
    };
    return hooks;
}

void Session::Impl::configure_dht() {
    const auto& s = ctx.settings;
    dht.configure(s.dht, s.listen_address, ctx.listen_port, s.dht_bootstrap_nodes,
                  s.dht_table_file);
}

}  // namespace btd
