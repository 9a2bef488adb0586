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
import json
import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import harness as H  # noqa: E402

GIB = 1024 * H.MIB


def parse_args():
    ap = argparse.ArgumentParser(description="btd vs libtorrent seeding benchmark")
    ap.add_argument("--size-mib", type=int, default=1024, help="payload size (default 1024)")
    ap.add_argument("--runs", type=int, default=3, help="runs per seeder (default 3)")
    ap.add_argument("--piece-kib", type=int, default=1024, help="piece length (default 1024)")
    ap.add_argument("--seeders", default="btd,libtorrent",
                    help="two seeders to compare, run alternately (btd|libtorrent each); "
                         "libtorrent,libtorrent checks the harness itself")
    ap.add_argument("--quick", action="store_true", help="64 MiB, 1 run each: a smoke test")
    ap.add_argument("--timeout", type=float, default=600, help="per download, seconds")
    ap.add_argument("--workdir", default=None,
                    help="where payload and downloads go (default: a temp dir; needs ~2x size)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
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


def run_one(kind, work, base_torrent, src_dir, info_hash, name, expected_sha1, size, timeout):
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
    path = os.path.join(dl_dir, name)
    got_size = os.path.getsize(path) if os.path.exists(path) else -1
    if got_size != size or H.sha1_file(path) != expected_sha1:
        raise SystemExit(f"wrong data from the {kind} seeder at {path} (size {got_size})")
    shutil.rmtree(dl_dir, ignore_errors=True)
    cpu = cpu1 - cpu0
    return {"wall": res.wall, "mib_s": size / H.MIB / res.wall, "seed_cpu": cpu,
            "seed_cpu_per_gib": cpu / (size / GIB), "seed_hwm_mib": hwm_kib / 1024,
            "seed_anon_mib": sampler.peak_kib / 1024, "leech_cpu": res.cpu}


def fmt_row(label, r):
    return (f"{label:<16} leecher wall {r['wall']:7.2f} s {r['mib_s']:7.1f} MiB/s | seeder cpu "
            f"{r['seed_cpu']:6.2f} s ({r['seed_cpu_per_gib']:5.2f} s/GiB) VmHWM "
            f"{r['seed_hwm_mib']:7.1f} MiB anon {r['seed_anon_mib']:6.1f} MiB | leecher cpu "
            f"{r['leech_cpu']:6.2f} s")


def median_of(rows):
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main():
    args = parse_args()
    kinds = [k.strip() for k in args.seeders.split(",")]
    if len(kinds) != 2 or any(k not in ("btd", "libtorrent") for k in kinds):
        raise SystemExit("--seeders takes two of btd|libtorrent, e.g. btd,libtorrent")
    if "btd" in kinds:
        H.btd_binary()  # fail early with a clear message
    size = args.size_mib * H.MIB
    name = "bench.bin"
    labels = [f"{k}#{i + 1}" for i, k in enumerate(kinds)] if kinds[0] == kinds[1] else kinds

    with H.TempDir(prefix="btd-bench-seed-") as tmp:
        work = args.workdir or tmp
        os.makedirs(work, exist_ok=True)
        src_dir = os.path.join(work, "src")
        t0 = time.monotonic()
        H.make_payload(src_dir, H.layout_single(size, name), seed=11)
        content = os.path.join(src_dir, name)
        expected_sha1 = H.sha1_file(content)
        base_torrent, info_hash = H.make_torrent(content, [], args.piece_kib * H.KIB,
                                                 os.path.join(work, "base.torrent"))
        H.log(f"payload {args.size_mib} MiB, piece {args.piece_kib} KiB, ready in "
              f"{time.monotonic() - t0:.1f}s")
        results = {label: [] for label in labels}
        for run in range(args.runs):
            for kind, label in zip(kinds, labels):
                r = run_one(kind, work, base_torrent, src_dir, info_hash, name, expected_sha1,
                            size, args.timeout)
                results[label].append(r)
                print(fmt_row(f"run {run + 1} {label}", r), flush=True)

    med = {label: median_of(rows) for label, rows in results.items()}
    print(f"\nmedians over {args.runs} run(s), {args.size_mib} MiB, piece {args.piece_kib} KiB:")
    for label in labels:
        print(fmt_row(label, med[label]))
    a, b = med[labels[0]], med[labels[1]]
    print(f"\nratios {labels[0]}/{labels[1]} (lower is better for {labels[0]}):")
    print(f"  leecher wall {a['wall'] / b['wall']:.2f}   seeder cpu "
          f"{a['seed_cpu'] / max(b['seed_cpu'], 1e-9):.2f}   seeder VmHWM "
          f"{a['seed_hwm_mib'] / max(b['seed_hwm_mib'], 1e-9):.2f}   seeder anon rss "
          f"{a['seed_anon_mib'] / max(b['seed_anon_mib'], 1e-9):.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"size_mib": args.size_mib, "piece_kib": args.piece_kib,
                       "runs": results, "medians": med}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
