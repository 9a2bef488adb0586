#!/usr/bin/python3
"""Side-by-side download benchmark: btd vs libtorrent, same seeder, same torrent, on loopback.

  /usr/bin/python3 bench/bench_download.py [--size-mib 1024] [--runs 3] [--piece-kib 1024]
                                           [--seeders 1] [--leechers btd,libtorrent]
                                           [--quick] [--no-limits] [--json FILE]

`--seeders N` libtorrent seeders (lt_peer.py, one process each) and one opentracker serve a
single-file torrent; the leechers
run alternately (A, B, A, B, ...), each into a fresh empty dir. Per run: wall time (process start
to exit, so start-up and shutdown count on both sides), CPU (user+sys of the leecher process
from wait4) and peak RSS (ru_maxrss). Each download is checked (SHA-1 against the source, not
timed). See bench/README.md.
"""

import argparse
import os
import shutil
import sys

import bench_common as B
import bench_limits as L
from bench_common import H


def parse_args():
    ap = argparse.ArgumentParser(description="btd vs libtorrent download benchmark")
    B.add_common_args(ap, "leecher")
    ap.add_argument("--leechers", default="btd,libtorrent",
                    help="two leechers to compare, run alternately (btd|libtorrent each); "
                         "libtorrent,libtorrent checks the harness itself")
    ap.add_argument("--seeders", type=int, default=1, help="libtorrent seeders (default 1)")
    ap.add_argument("--quick", action="store_true", help="64 MiB, 1 run each: a smoke test")
    ap.add_argument("--no-limits", action="store_true",
                    help="skip measuring this machine's limits (SHA-1, loopback, disk)")
    args = ap.parse_args()
    if args.quick:
        args.size_mib, args.runs = 64, 1
    return args


def fmt_row(label, r):
    return (f"{label:<16} wall {r['wall']:8.2f} s  {r['mib_s']:8.1f} MiB/s  "
            f"cpu {r['cpu']:7.2f} s ({r['cpu_per_gib']:6.2f} s/GiB)  "
            f"rss {r['rss_mib']:7.1f} MiB (anon {r['anon_mib']:6.1f})")


def run_one(kind, torrent, dl_dir, expected_sha1, size, timeout):
    shutil.rmtree(dl_dir, ignore_errors=True)
    os.makedirs(dl_dir)
    res = H.run_leecher(torrent, dl_dir, timeout, kind=kind, log_level="warn")
    if res.rc != 0:
        raise SystemExit(f"{kind} failed (exit {res.rc}):\n{res.stderr[-4000:]}")
    B.check_download(dl_dir, size, expected_sha1, kind)
    return {"wall": res.wall, "cpu": res.cpu, "rss_mib": res.max_rss_kib / 1024,
            "anon_mib": res.peak_anon_kib / 1024,
            "mib_s": size / H.MIB / res.wall, "cpu_per_gib": res.cpu / (size / B.GIB)}


def main():
    args = parse_args()
    kinds, labels = B.contenders(args.leechers, "--leechers")
    size = args.size_mib * H.MIB

    with H.TempDir(prefix="btd-bench-") as tmp:
        work = args.workdir or tmp
        os.makedirs(work, exist_ok=True)
        src_dir, content, expected_sha1, _, info_hash = B.make_payload(work, args, seed=7)
        with H.Tracker([info_hash]) as tracker:
            torrent, _ = H.make_torrent(content, [tracker.http_url], args.piece_kib * H.KIB,
                                        os.path.join(work, "bench.torrent"))
            seeders = [H.LtPeer(torrent, src_dir, mode="seed", extra_args=["--quiet"])
                       for _ in range(args.seeders)]
            try:
                for seeder in seeders:
                    seeder.start()
                for seeder in seeders:
                    seeder.wait_ready(timeout=300)  # each seeder hashes the whole payload first
                H.wait_for_tracker_seeds(tracker, info_hash, args.seeders, timeout=60)
                results = B.run_alternating(
                    args, kinds, labels,
                    lambda kind: run_one(kind, torrent, os.path.join(work, "dl"), expected_sha1,
                                         size, args.timeout), fmt_row)
            finally:
                for seeder in seeders:
                    seeder.stop()
            limits = None if args.no_limits else L.measure(work, quick=args.quick)

    med = B.summarize(args, labels, results, fmt_row)
    a, b = med[labels[0]], med[labels[1]]
    print(f"\nratios {labels[0]}/{labels[1]} (time, cpu, rss: lower is better for "
          f"{labels[0]}; MiB/s: higher is better):")
    print(f"  wall {a['wall'] / b['wall']:.2f}   MiB/s {a['mib_s'] / b['mib_s']:.2f}   "
          f"cpu {a['cpu'] / b['cpu']:.2f}   rss {a['rss_mib'] / b['rss_mib']:.2f}   "
          f"anon rss {B.ratio(a['anon_mib'], b['anon_mib']):.2f}")
    print(f"  ({args.seeders} seeder(s), load {os.getloadavg()[0]:.1f} at the end)")
    if limits:
        print(L.describe(limits))
        for label in labels:
            m = med[label]
            print(f"  {label}: {m['mib_s']:.0f} MiB/s = {L.of_limit(m['mib_s'], limits['tcp'])} of "
                  f"loopback TCP, {L.of_limit(m['mib_s'], limits['write_cached'])} of cached disk "
                  f"writes, {L.of_limit(m['mib_s'], limits['write_synced'])} of synced writes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
