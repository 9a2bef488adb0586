#pragma once
// Tuning of one torrent's peer and disk behaviour: pipelining, timeouts, upload queues, choking
// rounds, bans and disk retries. The defaults are the values btd has always used; each field is
// a config key of daemon/settings_table.hpp (the "Tuning" rows). Plain data, any thread.
#include <chrono>
#include <cstddef>

namespace btd {

struct TorrentTuning {
    int max_half_open = 16;       // outgoing connections still connecting, per torrent
    int min_request_queue = 16;   // blocks requested from one peer, at least ...
    int max_request_queue = 500;  // ... and at most (libtorrent's default limit per peer)
    std::chrono::seconds request_queue_time{3};    // data kept in flight per peer, at its rate
    std::chrono::seconds request_timeout{20};      // no block for this long: the peer is snubbed
    std::chrono::seconds inactivity_timeout{120};  // no message at all: disconnect
    std::chrono::seconds keep_alive_interval{90};
    int ban_strikes = 4;  // bad pieces an offender may take part in
    // What we announce as `reqq` (libtorrent's value): a leecher that keeps this many requests
    // outstanding (Transmission does) is held to reqq x 16 KiB per round trip. Entries hold no
    // data, so a full queue of 2000 costs about 100 KiB per peer.
    std::size_t max_upload_queue = 2000;
    std::size_t max_reads_in_flight = 8;  // disk reads per peer
    int max_invalid_requests = 50;        // then the peer is a protocol violator
    int rechoke_every_s = 10;
    int optimistic_every_s = 30;            // the optimistic slot rotates this often
    std::chrono::seconds new_peer_age{60};  // younger peers get a triple optimistic chance
    std::size_t allowed_fast_count = 10;    // BEP 6 pieces we let a choked peer request
    std::size_t max_allowed_fast_in = 64;   // allowed-fast pieces we remember per peer
    std::size_t max_known_peers = 2000;     // candidates kept from every source
    // Waits after a transient disk error (out of space or descriptors) before trying again.
    std::chrono::seconds first_disk_retry{5};
    std::chrono::seconds max_disk_retry{300};
    // A connected peer that has given nothing for this long (neither side interested, no
    // payload either way) may be dropped when its slot is wanted for a new candidate or an
    // incoming peer.
    std::chrono::seconds useless_peer_grace{60};
    int files_check_every_s = 30;  // seconds between checks that files are still ours
};

}  // namespace btd
