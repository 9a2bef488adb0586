#!/usr/bin/python3
"""A/B of btd builds as the leecher, optionally under `perf record`.

  /usr/bin/python3 bench/ab_leech.py --btd OLD_BTD NEW_BTD [--runs 3] [--size-mib 1024]
                                     [--no-perf] [--out /tmp/leech.data]

One libtorrent seeder and one opentracker; the given btd binaries download the payload in turn
(A, B, A, B, ...), each `btd --download` into an empty dir, checked after each run. Prints wall,
user and sys time per run; without --no-perf each run is recorded with
`perf record -F 1999 -g -o OUT.<i>` (i = index of the binary; the last run of each is kept), to
be read with `perf report -i OUT.<i> --no-children --sort sym`.
"""
import argparse
import os
import shutil
import subprocess
import time

import bench_common as B
from bench_common import H


def parse_args():
    ap = argparse.ArgumentParser(description="A/B of btd builds as the leecher")
    ap.add_argument("--btd", nargs="+", default=[os.environ.get("BTD_BIN", "build/daemon/btd")],
                    help="btd binaries to compare (run alternately)")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--piece-kib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=1, help="rounds (default 1)")
    ap.add_argument("--out", default="/tmp/leech.data", help="perf data prefix")
    ap.add_argument("--no-perf", action="store_true", help="time only, no perf record")
    return ap.parse_args()


def run_one(args, index, btd, torrent, dl, size, sha):
    shutil.rmtree(dl, ignore_errors=True)
    os.makedirs(dl)
    cmd = [btd, "--download", torrent, "--download-dir", dl, "--listen-port",
           str(H.free_port()), "--log-level", "warn"]
    if not args.no_perf:
        cmd = ["perf", "record", "-F", "1999", "-g", "-o", f"{args.out}.{index}", "--"] + cmd
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{btd} failed")
    B.check_download(dl, size, sha, btd)
    return wall, ru.ru_utime, ru.ru_stime


def main():
    args = parse_args()
    size = args.size_mib * H.MIB
    with H.TempDir(prefix="btd-ab-leech-") as work:
        src, content, sha, _, info_hash = B.make_payload(work, args, seed=7)
        with H.Tracker([info_hash]) as tracker:
            torrent, _ = H.make_torrent(content, [tracker.http_url], args.piece_kib * H.KIB,
                                        os.path.join(work, "ab.torrent"))
            seeder = H.LtPeer(torrent, src, mode="seed", extra_args=["--quiet"]).start()
            try:
                seeder.wait_ready(300)
                for run in range(args.runs):
                    for index, btd in enumerate(args.btd):
                        wall, user, sys_s = run_one(args, index, btd, torrent,
                                                    os.path.join(work, "dl"), size, sha)
                        print(f"run {run} btd[{index}] wall {wall:.2f} s user {user:.2f} sys "
                              f"{sys_s:.2f} MiB/s {args.size_mib / wall:.0f} load "
                              f"{os.getloadavg()[0]:.1f}", flush=True)
            finally:
                seeder.stop()


if __name__ == "__main__":
    main()
