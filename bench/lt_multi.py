#!/usr/bin/python3
"""One libtorrent session with many torrents, for bench_many.py.

  lt_multi.py --mode seed|leech --save-path DIR --port P [--timeout S] T1.torrent T2.torrent ...

seed: checks every torrent, prints READY once all seed, runs until SIGTERM.
leech: downloads every torrent into DIR, prints DONE and exits 0 once all are complete and
flushed (exit 2 on timeout). Same session settings as tests/integration/lt_peer.py (TCP only,
127.0.0.1, no DHT/LSD/UPnP/NAT-PMP).
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import lt_peer  # noqa: E402
import libtorrent as lt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="libtorrent with many torrents in one session")
    ap.add_argument("--mode", choices=["seed", "leech"], required=True)
    ap.add_argument("--save-path", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("torrents", nargs="+")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lt_peer._on_signal)
    signal.signal(signal.SIGINT, lt_peer._on_signal)

    ses = lt_peer.make_session(args.port)
    alerts = lt_peer.AlertWaiter(ses)
    # All torrents at once (libtorrent's default queue runs 3 downloads and 5 seeds).
    ses.apply_settings({"active_downloads": -1, "active_seeds": -1, "active_limit": -1,
                        "active_tracker_limit": -1, "active_checking": 2})
    handles = []
    for path in args.torrents:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(path)
        params.save_path = args.save_path
        handles.append(ses.add_torrent(params))
    start = time.monotonic()
    ready = False
    while not lt_peer._stop:
        ses.pop_alerts()
        states = [h.status() for h in handles]
        if args.mode == "seed":
            if not ready and all(s.is_seeding for s in states):
                lt_peer.out("READY")  # the caller checks the tracker's scrape for each torrent
                ready = True
        elif all(s.is_seeding for s in states):
            for h in handles:
                h.flush_cache()
            lt_peer.out(f"DONE {time.monotonic() - start:.3f}")
            return 0
        if time.monotonic() - start > args.timeout:
            lt_peer.out("TIMEOUT")
            return 2
        alerts.wait(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
