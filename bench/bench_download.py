#!/usr/bin/python3
"""Side-by-side download benchmark: btd vs libtorrent, same seeder, same torrent, on loopback.

  /usr/bin/python3 bench/bench_download.py [--size-mib 1024] [--runs 3] [--piece-kib 1024]
                                           [--leechers btd,libtorrent] [--json FILE]

One libtorrent seeder (lt_peer.py) and one opentracker serve a single-file torrent; the leechers
run alternately (A, B, A, B, ...), each into a fresh empty dir. Per run: wall time (process start
to exit, so start-up and shutdown count on both sides), CPU (user+sys of the leecher process
from wait4) and peak RSS (ru_maxrss). Each download is checked (SHA-1 against the source, not
timed). See bench/README.md.
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
    ap = argparse.ArgumentParser(description="btd vs libtorrent download benchmark")
    ap.add_argument("--size-mib", type=int, default=1024, help="payload size (default 1024)")
    ap.add_argument("--runs", type=int, default=3, help="runs per leecher (default 3)")
    ap.add_argument("--piece-kib", type=int, default=1024, help="piece length (default 1024)")
    ap.add_argument("--leechers", default="btd,libtorrent",
                    help="two leechers to compare, run alternately (btd|libtorrent each); "
                         "libtorrent,libtorrent checks the harness itself")
    ap.add_argument("--timeout", type=float, default=600, help="per download, seconds")
    ap.add_argument("--workdir", default=None,
                    help="where payload and downloads go (default: a temp dir; needs ~2x size)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    return ap.parse_args()


def fmt_row(label, r):
    return (f"{label:<16} wall {r['wall']:8.2f} s  {r['mib_s']:8.1f} MiB/s  "
            f"cpu {r['cpu']:7.2f} s ({r['cpu_per_gib']:6.2f} s/GiB)  "
            f"rss {r['rss_mib']:7.1f} MiB (anon {r['anon_mib']:6.1f})")


def run_one(kind, torrent, dl_dir, name, expected_sha1, size, timeout):
    shutil.rmtree(dl_dir, ignore_errors=True)
    os.makedirs(dl_dir)
    res = H.run_leecher(torrent, dl_dir, timeout, kind=kind, log_level="warn")
    if res.rc != 0:
        raise SystemExit(f"{kind} failed (exit {res.rc}):\n{res.stderr[-4000:]}")
    path = os.path.join(dl_dir, name)
    got_size = os.path.getsize(path) if os.path.exists(path) else -1
    if got_size != size or H.sha1_file(path) != expected_sha1:
        raise SystemExit(f"{kind} produced wrong data at {path} (size {got_size}, want {size})")
    shutil.rmtree(dl_dir, ignore_errors=True)
    return {"wall": res.wall, "cpu": res.cpu, "rss_mib": res.max_rss_kib / 1024,
            "anon_mib": res.peak_anon_kib / 1024,
            "mib_s": size / H.MIB / res.wall, "cpu_per_gib": res.cpu / (size / GIB)}


def median_of(rows):
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main():
    args = parse_args()
    kinds = [k.strip() for k in args.leechers.split(",")]
    if len(kinds) != 2 or any(k not in ("btd", "libtorrent") for k in kinds):
        raise SystemExit("--leechers takes two of btd|libtorrent, e.g. btd,libtorrent")
    if "btd" in kinds:
        H.btd_binary()  # fail early with a clear message
    size = args.size_mib * H.MIB
    name = "bench.bin"
    labels = [f"{k}#{i + 1}" for i, k in enumerate(kinds)] if kinds[0] == kinds[1] else kinds

    with H.TempDir(prefix="btd-bench-") as tmp:
        work = args.workdir or tmp
        os.makedirs(work, exist_ok=True)
        src_dir = os.path.join(work, "src")
        t0 = time.monotonic()
        H.make_payload(src_dir, H.layout_single(size, name), seed=7)
        content = os.path.join(src_dir, name)
        expected_sha1 = H.sha1_file(content)
        _, info_hash = H.make_torrent(content, [], args.piece_kib * H.KIB,
                                      os.path.join(work, "probe.torrent"))
        H.log(f"payload {args.size_mib} MiB, piece {args.piece_kib} KiB, ready in "
              f"{time.monotonic() - t0:.1f}s")
        with H.Tracker([info_hash]) as tracker:
            torrent, _ = H.make_torrent(content, [tracker.http_url], args.piece_kib * H.KIB,
                                        os.path.join(work, "bench.torrent"))
            seeder = H.LtPeer(torrent, src_dir, mode="seed", extra_args=["--quiet"]).start()
            try:
                seeder.wait_ready(timeout=300)  # the seeder hashes the whole payload first
                results = {label: [] for label in labels}
                for run in range(args.runs):
                    for kind, label in zip(kinds, labels):
                        r = run_one(kind, torrent, os.path.join(work, "dl"), name,
                                    expected_sha1, size, args.timeout)
                        results[label].append(r)
                        print(fmt_row(f"run {run + 1} {label}", r), flush=True)
            finally:
                seeder.stop()

    med = {label: median_of(rows) for label, rows in results.items()}
    print(f"\nmedians over {args.runs} run(s), {args.size_mib} MiB, piece {args.piece_kib} KiB:")
    for label in labels:
        print(fmt_row(label, med[label]))
    a, b = med[labels[0]], med[labels[1]]
    print(f"\nratios {labels[0]}/{labels[1]} (time, cpu, rss: lower is better for "
          f"{labels[0]}; MiB/s: higher is better):")
    print(f"  wall {a['wall'] / b['wall']:.2f}   MiB/s {a['mib_s'] / b['mib_s']:.2f}   "
          f"cpu {a['cpu'] / b['cpu']:.2f}   rss {a['rss_mib'] / b['rss_mib']:.2f}   "
          f"anon rss {a['anon_mib'] / max(b['anon_mib'], 1e-9):.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"size_mib": args.size_mib, "piece_kib": args.piece_kib,
                       "runs": results, "medians": med}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
