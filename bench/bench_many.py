#!/usr/bin/python3
"""Many torrents at once: btd (daemon) vs libtorrent (one session) leeching 20 x 50 MiB.

  /usr/bin/python3 bench/bench_many.py [--count 20] [--size-mib 50] [--runs 3] [--quick]
                                       [--piece-kib 256] [--json FILE]

One libtorrent session (bench/lt_multi.py --mode seed) seeds `--count` single-file torrents of
`--size-mib` MiB each through one opentracker. Per run, alternately:
  - btd: a fresh daemon (`btd --state-dir S --download-dir D --rpc-listen 127.0.0.1:0`), every
    torrent added with `torrent.add {path}`, polled (torrent.list, every 100 ms) until all are
    seeding, then SIGTERM;
  - libtorrent: `lt_multi.py --mode leech` with every torrent, which exits once all are complete
    and flushed.
Wall time is spawn to exit and CPU is user+sys from wait4, for both; peak anonymous RSS is
sampled every 50 ms. Every file is checked (SHA-1) and deleted between runs.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

import bench_common as B
import bench_daemon as D
import bench_limits as L
from bench_common import H
from bench_seed import with_tracker

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    ap = argparse.ArgumentParser(description="btd vs libtorrent, many torrents at once")
    ap.add_argument("--count", type=int, default=20, help="torrents (default 20)")
    ap.add_argument("--size-mib", type=int, default=50, help="MiB per torrent (default 50)")
    ap.add_argument("--piece-kib", type=int, default=256, help="piece length (default 256)")
    ap.add_argument("--runs", type=int, default=3, help="runs per leecher (default 3)")
    ap.add_argument("--timeout", type=float, default=600, help="per run, seconds")
    ap.add_argument("--quick", action="store_true", help="20 x 4 MiB, 1 run each")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args()
    if args.quick:
        args.size_mib, args.runs = 4, 1
    return args


def make_torrents(work, args):
    """[(name, torrent path without tracker, info-hash, sha1)] and the source dir."""
    src = os.path.join(work, "src")
    filler = H._Filler(5)
    os.makedirs(src)
    out = []
    for i in range(args.count):
        name = f"many{i:02d}.bin"
        path = os.path.join(src, name)
        filler.write_file(path, args.size_mib * H.MIB)
        torrent, ih = H.make_torrent(path, [], args.piece_kib * H.KIB,
                                     os.path.join(work, f"base{i:02d}.torrent"))
        out.append((name, torrent, ih, H.sha1_file(path)))
    return src, out


def wait4_rusage(proc):
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, rusage


def run_btd(work, dl, torrents, timeout):
    state = os.path.join(work, "btd-state")
    shutil.rmtree(state, ignore_errors=True)
    address_file = os.path.join(state, "rpc.address")
    log = open(os.path.join(work, "btd.log"), "wb")
    start = time.monotonic()
    proc = H.spawn([H.btd_binary(), "--state-dir", state, "--download-dir", dl, "--rpc-listen",
                    "127.0.0.1:0", "--listen-port", str(H.free_port()), "--log-level", "warn",
                    *H.NO_DISCOVERY_FLAGS],
                   stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    log.close()
    sampler = H._AnonRssSampler(proc.pid)
    try:
        while not os.path.exists(address_file):
            if proc.poll() is not None or time.monotonic() - start > 60:
                raise SystemExit("btd did not start (see btd.log)")
            time.sleep(0.005)
        with open(address_file) as f:
            address = f.read().strip()
        with open(os.path.join(state, "rpc.secret")) as f:
            rpc = D.Rpc(address, f.read().strip())
        for _, path, _, _ in torrents:
            rpc.call("torrent.add", {"path": path})
        while True:
            rows = rpc.call("torrent.list", {"fields": ["state"]})
            if len(rows) == len(torrents) and all(r["state"] == "seeding" for r in rows):
                break
            if time.monotonic() - start > timeout:
                raise SystemExit(f"btd: not done after {timeout}s: {rows}")
            time.sleep(0.1)
        rpc.close()
        proc.send_signal(signal.SIGTERM)
        rc, rusage = wait4_rusage(proc)
    finally:
        sampler.stop()
        H.kill_process(proc)
    return rc, time.monotonic() - start, rusage, sampler.peak_kib


def run_libtorrent(dl, torrents, timeout):
    args = [H.PYTHON, os.path.join(HERE, "lt_multi.py"), "--mode", "leech", "--save-path", dl,
            "--port", str(H.free_port()), "--timeout", str(timeout)]
    start = time.monotonic()
    proc = H.spawn(args + [path for _, path, _, _ in torrents], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    sampler = H._AnonRssSampler(proc.pid)
    try:
        rc, rusage = wait4_rusage(proc)
    finally:
        sampler.stop()
    return rc, time.monotonic() - start, rusage, sampler.peak_kib


def run_one(kind, work, torrents, total_bytes, timeout):
    dl = os.path.join(work, "dl")
    shutil.rmtree(dl, ignore_errors=True)
    os.makedirs(dl)
    if kind == "btd":
        rc, wall, rusage, anon = run_btd(work, dl, torrents, timeout)
    else:
        rc, wall, rusage, anon = run_libtorrent(dl, torrents, timeout)
    if rc != 0:
        raise SystemExit(f"{kind} exited with {rc}")
    for name, _, _, sha in torrents:
        if H.sha1_file(os.path.join(dl, name)) != sha:
            raise SystemExit(f"{kind}: wrong data in {name}")
    shutil.rmtree(dl, ignore_errors=True)
    cpu = rusage.ru_utime + rusage.ru_stime
    return {"wall": wall, "mib_s": total_bytes / H.MIB / wall, "cpu": cpu,
            "cpu_per_gib": cpu / (total_bytes / B.GIB), "anon_mib": anon / 1024,
            "rss_mib": rusage.ru_maxrss / 1024}


def fmt_row(label, r):
    return (f"{label:<16} wall {r['wall']:7.2f} s {r['mib_s']:7.1f} MiB/s  cpu {r['cpu']:6.2f} s "
            f"({r['cpu_per_gib']:5.2f} s/GiB)  rss {r['rss_mib']:7.1f} MiB (anon "
            f"{r['anon_mib']:6.1f})")


def main():
    args = parse_args()
    H.btd_binary()
    total = args.count * args.size_mib * H.MIB
    with H.TempDir(prefix="btd-bench-many-") as work:
        src, base = make_torrents(work, args)
        H.log(f"{args.count} torrents x {args.size_mib} MiB ready")
        with H.Tracker([ih for _, _, ih, _ in base]) as tracker:
            torrents = [(name, with_tracker(path, path.replace("base", "t"), tracker.http_url),
                         ih, sha) for name, path, ih, sha in base]
            seeder = H.spawn([H.PYTHON, os.path.join(HERE, "lt_multi.py"), "--mode", "seed",
                              "--save-path", src, "--port", str(H.free_port())]
                             + [t for _, t, _, _ in torrents],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                if seeder.stdout.readline().strip() != "READY":
                    raise SystemExit("the libtorrent seeder failed")
                for _, _, ih, _ in torrents:
                    H.wait_for_tracker_seeds(tracker, ih, 1, timeout=60)
                results = B.run_alternating(
                    args, ["btd", "libtorrent"], ["btd", "libtorrent"],
                    lambda kind: run_one(kind, work, torrents, total, args.timeout), fmt_row)
            finally:
                H.kill_process(seeder)
            limits = L.measure(work, quick=args.quick)
    args.size_mib = f"{args.count} x {args.size_mib}"
    med = B.summarize(args, ["btd", "libtorrent"], results, fmt_row)
    a, b = med["btd"], med["libtorrent"]
    print(f"\nratios btd/libtorrent (lower is better for btd):  wall "
          f"{a['wall'] / b['wall']:.2f}   cpu {a['cpu'] / b['cpu']:.2f}   anon rss "
          f"{B.ratio(a['anon_mib'], b['anon_mib']):.2f}   (load {os.getloadavg()[0]:.1f})")
    print(L.describe(limits))
    for label in ("btd", "libtorrent"):
        print(f"  {label}: {med[label]['mib_s']:.0f} MiB/s = "
              f"{L.of_limit(med[label]['mib_s'], limits['tcp'])} of loopback TCP, "
              f"{L.of_limit(med[label]['mib_s'], limits['write_cached'])} of cached disk writes")
    print("targets (issue 9): wall and cpu <= libtorrent's: "
          f"{'MET' if a['wall'] <= b['wall'] and a['cpu'] <= b['cpu'] else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
