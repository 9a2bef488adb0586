#pragma once
// The Session's DHT: one DhtNode per address family (IPv4, and IPv6 where a socket can be had,
// BEP 32) on the peer listen port, bootstrapped from SessionSettings::dht_bootstrap_nodes (host
// names resolved asynchronously), a get_peers lookup and an announce for every job that
// Session::Impl::active_info_hashes() names (never a private one, BEP 27) every 15 minutes, and
// the routing table kept in SessionSettings::dht_table_file (read and written on the disk pool).
// Peers found go to Impl::deliver_peers with PeerSource::dht. Network thread only.
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dht/dht_node.hpp"
#include "core/util/hash.hpp"

namespace btd {

struct SessionDhtStats {
    bool enabled = false;
    int nodes = 0;    // in the routing tables, both families
    int lookups = 0;  // in flight
};

class SessionDht {
  public:
    using Clock = std::chrono::steady_clock;
    // What the DHT needs from the Session, injected so this part knows nothing of Impl.
    struct Hooks {
        std::function<std::vector<Sha1Hash>()> active_info_hashes;
        std::function<void(const Sha1Hash&, std::vector<dht::Endpoint>)> peers_found;
        // Runs work() on the disk pool, then then() on the network thread while the owner lives.
        std::function<void(std::function<std::string()> work,
                           std::function<void(std::string)> then)>
            on_disk;
    };
    static constexpr std::chrono::minutes kAnnounceInterval{15};
    static constexpr std::chrono::seconds kRetryWhenNoPeers{20};
    static constexpr std::chrono::minutes kSaveInterval{10};

    SessionDht(boost::asio::io_context& io, Hooks hooks);
    ~SessionDht();

    // (Re)starts with these settings, or stops when `on` is false. The saved table is read
    // first (on the disk pool); a running DHT saves its table before it goes.
    void configure(bool on, const std::string& listen_address, std::uint16_t port,
                   const std::vector<std::string>& bootstrap, const std::filesystem::path& file);
    void tick();  // once per second: due lookups and announces, periodic save
    // A job just started running (added, resumed, released by the queue): its lookup starts
    // now rather than at the next tick. Nothing if the DHT is off, has nobody to ask yet (the
    // tick retries) or a lookup for it runs already.
    void look_up_now(const Sha1Hash& info_hash);
    void shutdown();  // saves the table (disk pool) and closes the sockets
    SessionDhtStats stats() const;

  private:
    void open(std::optional<dht::SavedRoutingTable> saved4,
              std::optional<dht::SavedRoutingTable> saved6);
    void open_family(const dht::Endpoint& local, std::optional<dht::SavedRoutingTable> saved);
    void bootstrap_all();
    void bootstrap_with(const std::vector<dht::Endpoint>& routers);
    void announce_due(Clock::time_point now);
    void start_lookup(const Sha1Hash& info_hash, Clock::time_point now);
    void save();

    boost::asio::io_context& io_;
    Hooks hooks_;
    boost::asio::ip::udp::resolver resolver_;
    bool on_ = false;
    std::string listen_address_;
    std::uint16_t port_ = 0;
    std::vector<std::string> bootstrap_;
    std::filesystem::path file_;
    std::vector<std::unique_ptr<dht::DhtNode>> nodes_;
    std::map<Sha1Hash, Clock::time_point> next_lookup_;
    Clock::time_point next_save_{};
    std::uint64_t generation_ = 0;  // a late load or resolve of an older configure() is dropped
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd
