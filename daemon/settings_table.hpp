#pragma once
// btd's settings table: one row per setting. Everything else is generated from these rows: the
// fields of ConfigValues and DaemonConfig (daemon/config.hpp), the config file keys and their
// syntax, btd's command-line flags and --help, session.get/session.set (names, types, ranges),
// the runtime overrides in settings.json and what a SIGHUP reload applies (daemon/settings.hpp).
// Adding a setting is adding a row here (plus btd.conf.sample, btd.conf.5 and btd.8 when users
// see it: tests/integration/test_install.py checks that the docs match).
//
// A row: X(C++ type, name, default, details). `name` is the config key, the RPC param and the
// settings.json key. `details` continues a Row<type> (daemon/settings.hpp):
//   .from(kConfig | kFlag | kRpc)  who may set it: the config file, a flag, RPC session.set
//                                  (RPC settings are kept in settings.json across restarts)
//   .reload()                      a SIGHUP applies a changed value (else: needs a restart)
//   .secret()                      a password: logs never show the value
//   .flag("--name", "VALUE")       the flag, and the name of its value in --help
//   .syntax(rate())                the value syntax with its range, written once (settings.cpp)
//   .engine(&SessionSettings::x)   the engine field it sets, one line (scaled, nested: see Row)
//   .help("...")                   one line for --help
// A default of {} for download_dir and state_dir means "computed" (resolve_config).

#define BTD_SETTINGS(X)                                                                    \
    X(std::filesystem::path, download_dir, {},                                             \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--download-dir", "DIR")                                                   \
          .syntax(path())                                                                  \
          .engine(&SessionSettings::default_download_dir)                                  \
          .help("default directory for new downloads"))                                    \
    X(std::filesystem::path, state_dir, {},                                                \
      .from(kConfig | kFlag)                                                               \
          .flag("--state-dir", "DIR")                                                      \
          .syntax(path())                                                                  \
          .help("job list, resume data and RPC secret"))                                   \
    X(HostPort, rpc_listen, kDefaultRpcListen,                                             \
      .from(kConfig | kFlag)                                                               \
          .flag("--rpc-listen", "HOST:PORT")                                               \
          .syntax(host_port())                                                             \
          .help("JSON-RPC endpoint (IPv6 in brackets)"))                                   \
    X(std::uint16_t, listen_port, 6881,                                                    \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--listen-port", "PORT")                                                   \
          .syntax(whole<std::uint16_t>(0, 65535, "a port"))                                \
          .engine(&SessionSettings::listen_port)                                           \
          .help("TCP port for incoming peers (0 = any free port)"))                        \
    X(spdlog::level::level_enum, log_level, spdlog::level::info,                           \
      .from(kConfig | kFlag)                                                               \
          .reload()                                                                        \
          .flag("--log-level", "LEVEL")                                                    \
          .syntax(level_name())                                                            \
          .help("trace, debug, info, warn, error, critical or off"))                       \
    X(std::int64_t, download_rate_limit, 0,                                                \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--download-rate-limit", "RATE")                                           \
          .syntax(rate())                                                                  \
          .engine(&SessionSettings::download_rate_limit)                                   \
          .help("all torrents together, e.g. 500K, 2M, 1.5MiB/s (0 = unlimited)"))         \
    X(std::int64_t, upload_rate_limit, 0,                                                  \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--upload-rate-limit", "RATE")                                             \
          .syntax(rate())                                                                  \
          .engine(&SessionSettings::upload_rate_limit)                                     \
          .help("all torrents together, e.g. 500K, 2M, 1.5MiB/s (0 = unlimited)"))         \
    X(int, max_peers_per_torrent, 60,                                                      \
      .from(kConfig | kRpc)                                                                \
          .reload()                                                                        \
          .syntax(whole<int>(1, 10000, "a peer count"))                                    \
          .engine(&SessionSettings::max_peers_per_torrent)                                 \
          .help("peer connections per torrent"))                                           \
    X(double, ratio_limit, 0,                                                              \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--ratio-limit", "RATIO")                                                  \
          .syntax(ratio())                                                                 \
          .engine(&SessionSettings::ratio_limit)                                           \
          .help("stop seeding at this upload/download ratio (0 = never)"))                 \
    X(std::int64_t, seed_idle_limit, 0,                                                    \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--seed-idle-limit", "SECONDS")                                            \
          .syntax(whole<std::int64_t>(0, kMaxSeedIdleLimit, "a number of seconds"))        \
          .engine(&SessionSettings::seed_idle_limit)                                       \
          .help("stop seeding after this long without uploading (0 = never)"))             \
    X(std::int64_t, memory_budget_mib, 256,                                                \
      .from(kConfig)                                                                       \
          .reload()                                                                        \
          .syntax(whole<std::int64_t>(16, 1 << 20, "a size in MiB"))                       \
          .engine_scaled(&SessionSettings::memory_budget, 1 << 20)                         \
          .help("memory for pieces in flight, all torrents (MiB)"))                        \
    X(unsigned, disk_threads, 0,                                                           \
      .from(kConfig)                                                                       \
          .syntax(whole<unsigned>(0, 256, "a thread count"))                               \
          .engine(&SessionSettings::disk_threads)                                          \
          .help("threads for disk writes and hash checks (0 = CPU cores)"))                \
    X(bool, rpc_auth, true,                                                                \
      .from(kConfig).syntax(boolean()).help("require the bearer secret from rpc.secret"))  \
    X(bool, metrics_public, false,                                                         \
      .from(kConfig).syntax(boolean()).help("serve /metrics without a token"))             \
    X(std::vector<std::string>, rpc_allowed_hosts, {},                                     \
      .from(kConfig | kFlag)                                                               \
          .flag("--rpc-allowed-hosts", "NAME,...")                                         \
          .syntax(names())                                                                 \
          .help("Host header names accepted besides localhost"))                           \
    X(std::string, rpc_username, {},                                                       \
      .from(kConfig).syntax(text()).help("Transmission RPC user (with rpc_password)"))     \
    X(std::string, rpc_password, {},                                                       \
      .from(kConfig).secret().syntax(text()).help("Transmission RPC password"))            \
    X(std::vector<std::filesystem::path>, allowed_download_dirs, {},                       \
      .from(kConfig | kFlag)                                                               \
          .flag("--allowed-download-dirs", "DIR,...")                                      \
          .syntax(absolute_dirs())                                                         \
          .help("where RPC callers may put data (empty = anywhere)"))                      \
    X(int, upload_slots, 4,                                                                \
      .from(kConfig | kRpc)                                                                \
          .reload()                                                                        \
          .syntax(whole<int>(1, 100, "a slot count"))                                      \
          .engine(&SessionSettings::upload_slots)                                          \
          .help("peers each torrent uploads to at once, besides one optimistic slot"))     \
    X(int, max_connections, 500,                                                           \
      .from(kRpc)                                                                          \
          .syntax(whole<int>(1, 100000, "a connection count"))                             \
          .engine(&SessionSettings::max_connections)                                       \
          .help("peer connections, all torrents together"))                                \
    X(std::filesystem::path, watch_dir, {},                                                \
      .from(kConfig | kFlag)                                                               \
          .flag("--watch-dir", "DIR")                                                      \
          .syntax(optional_path())                                                         \
          .help(".torrent and .magnet files dropped here are added (empty = off)"))        \
    X(bool, watch_dir_delete, false,                                                       \
      .from(kConfig).syntax(boolean()).help("remove added files, not rename them .added")) \
    X(std::filesystem::path, on_complete, {},                                              \
      .from(kConfig | kFlag)                                                               \
          .flag("--on-complete", "PROGRAM")                                                \
          .syntax(optional_path())                                                         \
          .help("program run when a download finishes (BTD_* environment)"))               \
    X(std::int64_t, on_complete_timeout, 300,                                              \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(1, 86400, "a number of seconds"))                    \
          .help("on_complete is killed after this many seconds"))                          \
    X(std::string, on_complete_url, {},                                                    \
      .from(kConfig).syntax(text()).help("webhook: JSON POST when a download finishes"))   \
    X(std::filesystem::path, webhook_ca_file, {},                                          \
      .from(kConfig)                                                                       \
          .syntax(optional_path())                                                         \
          .help("PEM file of CAs an https on_complete_url may use besides the system's"))  \
    X(bool, lsd, true,                                                                     \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--no-lsd", "")                                                            \
          .syntax(boolean())                                                               \
          .engine(&SessionSettings::lsd)                                                   \
          .help("local peer discovery (BEP 14) on the LAN; --no-lsd turns it off"))        \
    X(int, max_active_downloads, 5,                                                        \
      .from(kConfig | kRpc)                                                                \
          .reload()                                                                        \
          .syntax(whole<int>(-1, 100000, "a torrent count"))                               \
          .engine(&SessionSettings::max_active_downloads)                                  \
          .help("torrents downloading at once; the rest wait queued (-1 = unlimited)"))    \
    X(int, max_active_seeds, -1,                                                           \
      .from(kConfig | kRpc)                                                                \
          .reload()                                                                        \
          .syntax(whole<int>(-1, 100000, "a torrent count"))                               \
          .engine(&SessionSettings::max_active_seeds)                                      \
          .help("torrents seeding at once; the rest wait queued (-1 = unlimited)"))        \
    X(std::int64_t, queue_stalled_after, 1800,                                             \
      .from(kConfig | kRpc)                                                                \
          .reload()                                                                        \
          .syntax(whole<std::int64_t>(0, kMaxSeedIdleLimit, "a number of seconds"))        \
          .engine(&SessionSettings::queue_stalled_after)                                   \
          .help("a download without data this long frees its queue slot (0 = never)"))     \
    X(std::string, bind_interface, "",                                                     \
      .from(kConfig | kFlag)                                                               \
          .flag("--bind", "ADDRESS|IFNAME")                                                \
          .syntax(bind_target())                                                           \
          .engine(&SessionSettings::bind_interface)                                        \
          .help("send peer traffic only from this address or interface (e.g. a VPN's)"))   \
    X(bool, dht, true,                                                                     \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--no-dht", "")                                                            \
          .syntax(boolean())                                                               \
          .engine(&SessionSettings::dht)                                                   \
          .help("the DHT (BEP 5) on the UDP listen port; --no-dht turns it off"))          \
    X(std::vector<std::string>, dht_bootstrap_nodes, kDefaultDhtBootstrapNodes,            \
      .from(kConfig | kFlag | kRpc)                                                        \
          .reload()                                                                        \
          .flag("--dht-bootstrap", "HOST:PORT,...")                                        \
          .syntax(host_ports())                                                            \
          .engine(&SessionSettings::dht_bootstrap_nodes)                                   \
          .help("DHT routers a node with an empty table starts from"))                     \
    X(int, max_half_open, TorrentTuning{}.max_half_open,                                   \
      .from(kConfig)                                                                       \
          .syntax(whole<int>(1, 1000, "a connection count"))                               \
          .engine(&SessionSettings::tuning, &TorrentTuning::max_half_open)                 \
          .help("outgoing connections still connecting, per torrent"))                     \
    X(int, min_request_queue, TorrentTuning{}.min_request_queue,                           \
      .from(kConfig)                                                                       \
          .syntax(whole<int>(1, 10000, "a block count"))                                   \
          .engine(&SessionSettings::tuning, &TorrentTuning::min_request_queue)             \
          .help("blocks kept requested from one peer, at least"))                          \
    X(int, max_request_queue, TorrentTuning{}.max_request_queue,                           \
      .from(kConfig)                                                                       \
          .syntax(whole<int>(1, 10000, "a block count"))                                   \
          .engine(&SessionSettings::tuning, &TorrentTuning::max_request_queue)             \
          .help("blocks kept requested from one peer, at most"))                           \
    X(std::int64_t, request_queue_time, TorrentTuning{}.request_queue_time.count(),        \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(1, 60, "a number of seconds"))                       \
          .engine_seconds(&SessionSettings::tuning, &TorrentTuning::request_queue_time)    \
          .help("a peer's pipeline holds this many seconds of data at its rate"))          \
    X(std::int64_t, request_timeout, TorrentTuning{}.request_timeout.count(),              \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(5, 600, "a number of seconds"))                      \
          .engine_seconds(&SessionSettings::tuning, &TorrentTuning::request_timeout)       \
          .help("no block for this long: the peer is snubbed"))                            \
    X(std::int64_t, peer_inactivity_timeout, TorrentTuning{}.inactivity_timeout.count(),   \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(30, 3600, "a number of seconds"))                    \
          .engine_seconds(&SessionSettings::tuning, &TorrentTuning::inactivity_timeout)    \
          .help("no message from a peer for this long: disconnect"))                       \
    X(std::int64_t, keep_alive_interval, TorrentTuning{}.keep_alive_interval.count(),      \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(10, 600, "a number of seconds"))                     \
          .engine_seconds(&SessionSettings::tuning, &TorrentTuning::keep_alive_interval)   \
          .help("a keep-alive goes to a quiet peer this often"))                           \
    X(int, ban_strikes, TorrentTuning{}.ban_strikes,                                       \
      .from(kConfig)                                                                       \
          .syntax(whole<int>(1, 100, "a count"))                                           \
          .engine(&SessionSettings::tuning, &TorrentTuning::ban_strikes)                   \
          .help("bad pieces a peer may take part in before its ban"))                      \
    X(unsigned, max_upload_queue, TorrentTuning{}.max_upload_queue,                        \
      .from(kConfig)                                                                       \
          .syntax(whole<unsigned>(16, 100000, "a request count"))                          \
          .engine(&SessionSettings::tuning, &TorrentTuning::max_upload_queue)              \
          .help("requests a peer may queue with us (announced as reqq)"))                  \
    X(unsigned, max_reads_in_flight, TorrentTuning{}.max_reads_in_flight,                  \
      .from(kConfig)                                                                       \
          .syntax(whole<unsigned>(1, 256, "a read count"))                                 \
          .engine(&SessionSettings::tuning, &TorrentTuning::max_reads_in_flight)           \
          .help("disk reads in flight per peer we upload to"))                             \
    X(int, max_invalid_requests, TorrentTuning{}.max_invalid_requests,                     \
      .from(kConfig)                                                                       \
          .syntax(whole<int>(1, 100000, "a request count"))                                \
          .engine(&SessionSettings::tuning, &TorrentTuning::max_invalid_requests)          \
          .help("invalid requests before a peer counts as a violator"))                    \
    X(int, rechoke_interval, TorrentTuning{}.rechoke_every_s,                              \
      .from(kConfig)                                                                       \
          .syntax(whole<int>(1, 300, "a number of seconds"))                               \
          .engine(&SessionSettings::tuning, &TorrentTuning::rechoke_every_s)               \
          .help("seconds between choking rounds"))                                         \
    X(int, optimistic_unchoke_interval, TorrentTuning{}.optimistic_every_s,                \
      .from(kConfig)                                                                       \
          .syntax(whole<int>(1, 3600, "a number of seconds"))                              \
          .engine(&SessionSettings::tuning, &TorrentTuning::optimistic_every_s)            \
          .help("seconds between optimistic unchoke rotations"))                           \
    X(std::int64_t, new_peer_age, TorrentTuning{}.new_peer_age.count(),                    \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(0, 3600, "a number of seconds"))                     \
          .engine_seconds(&SessionSettings::tuning, &TorrentTuning::new_peer_age)          \
          .help("peers younger than this get 3x the optimistic chance"))                   \
    X(unsigned, allowed_fast_count, TorrentTuning{}.allowed_fast_count,                    \
      .from(kConfig)                                                                       \
          .syntax(whole<unsigned>(0, 100, "a piece count"))                                \
          .engine(&SessionSettings::tuning, &TorrentTuning::allowed_fast_count)            \
          .help("BEP 6 pieces a choked peer may still request"))                           \
    X(unsigned, max_allowed_fast_in, TorrentTuning{}.max_allowed_fast_in,                  \
      .from(kConfig)                                                                       \
          .syntax(whole<unsigned>(0, 1000, "a piece count"))                               \
          .engine(&SessionSettings::tuning, &TorrentTuning::max_allowed_fast_in)           \
          .help("allowed-fast pieces remembered per peer"))                                \
    X(unsigned, max_known_peers, TorrentTuning{}.max_known_peers,                          \
      .from(kConfig)                                                                       \
          .syntax(whole<unsigned>(10, 100000, "a peer count"))                             \
          .engine(&SessionSettings::tuning, &TorrentTuning::max_known_peers)               \
          .help("peer candidates kept per torrent, from every source"))                    \
    X(std::int64_t, first_disk_retry, TorrentTuning{}.first_disk_retry.count(),            \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(1, 3600, "a number of seconds"))                     \
          .engine_seconds(&SessionSettings::tuning, &TorrentTuning::first_disk_retry)      \
          .help("first wait after a full disk or no descriptors"))                         \
    X(std::int64_t, max_disk_retry, TorrentTuning{}.max_disk_retry.count(),                \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(1, 86400, "a number of seconds"))                    \
          .engine_seconds(&SessionSettings::tuning, &TorrentTuning::max_disk_retry)        \
          .help("longest wait between disk retries"))                                      \
    X(std::int64_t, useless_peer_grace, TorrentTuning{}.useless_peer_grace.count(),        \
      .from(kConfig)                                                                       \
          .syntax(whole<std::int64_t>(0, 3600, "a number of seconds"))                     \
          .engine_seconds(&SessionSettings::tuning, &TorrentTuning::useless_peer_grace)    \
          .help("an idle peer may be dropped for a new one after this"))                   \
    X(int, files_check_interval, TorrentTuning{}.files_check_every_s,                      \
      .from(kConfig)                                                                       \
          .syntax(whole<int>(1, 3600, "a number of seconds"))                              \
          .engine(&SessionSettings::tuning, &TorrentTuning::files_check_every_s)           \
          .help("seconds between checks that a torrent's files are still there"))
