#!/usr/bin/python3
"""Seeding benchmark: btd vs libtorrent as the seeder, same libtorrent leecher, on loopback.

  /usr/bin/python3 bench/bench_seed.py [--size-mib 1024] [--runs 3] [--piece-kib 1024]
                                       [--seeders btd,libtorrent] [--quick] [--json FILE]

Per run a fresh seeder process (btd --seed, or lt_peer.py --mode seed) hash-checks the payload,
announces to a fresh opentracker, and only then is measured while one libtorrent leecher
(lt_peer.py --mode leech, its own process) downloads everything: leecher wall time, seeder CPU
(/proc/PID/stat before the leecher starts and after it exits; the seeder keeps running), seeder
peak RSS (VmHWM, whole process life, so the hash check counts) and peak anonymous RSS sampled
every 50 ms during the transfer. Seeders alternate (A, B, A, B, ...). Every download is checked
(size + SHA-1, not timed). See bench/README.md.
"""

import argparse
import os
import shutil
import sys

import bench_common as B
from bench_common import H

def parse_args():
    ap = argparse.ArgumentParser(description="btd vs libtorrent seeding benchmark")
    B.add_common_args(ap, "seeder")
    ap.add_argument("--seeders", default="btd,libtorrent",
                    help="two seeders to compare, run alternately (btd|libtorrent each); "
                         "libtorrent,libtorrent checks the harness itself")
    ap.add_argument("--quick", action="store_true", help="64 MiB, 1 run each: a smoke test")
    args = ap.parse_args()
    if args.quick:
        args.size_mib, args.runs = 64, 1
    return args


def with_tracker(torrent_in, torrent_out, url):
    """A copy of the .torrent announcing to `url` (the info dict, so the info-hash, is kept)."""
    import libtorrent as lt

    with open(torrent_in, "rb") as f:
        meta = lt.bdecode(f.read())
    meta[b"announce"] = url.encode()
    meta.pop(b"announce-list", None)
    with open(torrent_out, "wb") as f:
        f.write(lt.bencode(meta))
    return torrent_out


def start_seeder(kind, torrent, src_dir):
    """A seeder that has checked its data; returns (peer object, pid)."""
    if kind == "btd":
        peer = H.BtdPeer(torrent, src_dir, log_level="info").start()
        peer.wait_seeding(timeout=600)
    else:
        peer = H.LtPeer(torrent, src_dir, mode="seed", extra_args=["--quiet"]).start()
        peer.wait_ready(timeout=600)
    return peer, peer.proc.pid


def run_one(kind, work, base_torrent, src_dir, info_hash, expected_sha1, size, timeout):
    dl_dir = os.path.join(work, "dl")
    shutil.rmtree(dl_dir, ignore_errors=True)
    os.makedirs(dl_dir)
    with H.Tracker([info_hash]) as tracker:
        torrent = with_tracker(base_torrent, os.path.join(work, "run.torrent"), tracker.http_url)
        seeder, pid = start_seeder(kind, torrent, src_dir)
        try:
            H.wait_for_tracker_seeds(tracker, info_hash, 1, timeout=60)
            cpu0 = H.proc_cpu_seconds(pid)
            sampler = H._AnonRssSampler(pid)
            try:
                res = H.run_leecher(torrent, dl_dir, timeout, kind="libtorrent")
            finally:
                sampler.stop()
            if seeder.proc.poll() is not None:
                raise SystemExit(f"the {kind} seeder exited during the run")
            cpu1 = H.proc_cpu_seconds(pid)
            hwm_kib = H.proc_status_kib(pid, "VmHWM")
        finally:
            seeder.stop()
    if res.rc != 0:
        raise SystemExit(f"leecher failed (exit {res.rc}) with the {kind} seeder:\n"
                         f"{res.stderr[-4000:]}")
    B.check_download(dl_dir, size, expected_sha1, f"the {kind} seeder")
    cpu = cpu1 - cpu0
    return {"wall": res.wall, "mib_s": size / H.MIB / res.wall, "seed_cpu": cpu,
            "seed_cpu_per_gib": cpu / (size / B.GIB), "seed_hwm_mib": hwm_kib / 1024,
            "seed_anon_mib": sampler.peak_kib / 1024, "leech_cpu": res.cpu}


def fmt_row(label, r):
    return (f"{label:<16} leecher wall {r['wall']:7.2f} s {r['mib_s']:7.1f} MiB/s | seeder cpu "
            f"{r['seed_cpu']:6.2f} s ({r['seed_cpu_per_gib']:5.2f} s/GiB) VmHWM "
            f"{r['seed_hwm_mib']:7.1f} MiB anon {r['seed_anon_mib']:6.1f} MiB | leecher cpu "
            f"{r['leech_cpu']:6.2f} s")


def main():
    args = parse_args()
    kinds, labels = B.contenders(args.seeders, "--seeders")
    size = args.size_mib * H.MIB

    with H.TempDir(prefix="btd-bench-seed-") as tmp:
        work = args.workdir or tmp
        os.makedirs(work, exist_ok=True)
        src_dir, _, expected_sha1, base_torrent, info_hash = B.make_payload(work, args, seed=11)
        results = B.run_alternating(
            args, kinds, labels,
            lambda kind: run_one(kind, work, base_torrent, src_dir, info_hash, expected_sha1,
                                 size, args.timeout), fmt_row)

    med = B.summarize(args, labels, results, fmt_row)
    a, b = med[labels[0]], med[labels[1]]
    print(f"\nratios {labels[0]}/{labels[1]} (lower is better for {labels[0]}):")
    print(f"  leecher wall {a['wall'] / b['wall']:.2f}   seeder cpu "
          f"{B.ratio(a['seed_cpu'], b['seed_cpu']):.2f}   seeder VmHWM "
          f"{B.ratio(a['seed_hwm_mib'], b['seed_hwm_mib']):.2f}   seeder anon rss "
          f"{B.ratio(a['seed_anon_mib'], b['seed_anon_mib']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
