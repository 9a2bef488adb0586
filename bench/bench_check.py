#!/usr/bin/python3
"""Hash-check speed of btd against `openssl speed sha1` x cores, on cached and uncached data.

  /usr/bin/python3 bench/bench_check.py [--size-mib 1024] [--piece-kib 1024] [--runs 3]
                                        [--quick] [--json FILE]

A complete payload (one file) and its tracker-less torrent are written; then, per run,
`btd --download T --download-dir SRC` hash-checks everything, finds the torrent complete and
exits. Wall time is spawn to exit (start-up, a few ms, counts); MiB/s = size / wall. Runs
alternate between cached (the file was just read, so it is in the page cache) and uncached (the
file's own pages dropped first with posix_fadvise DONTNEED: nobody else's cache is touched).
The machine's limits are measured in the same run: cached is compared with OpenSSL's SHA-1 rate
of one core times the number of cores (target: >= 70 %), uncached with reading the file alone.
`openssl speed` divides by CPU time, not wall time, so on a loaded machine its figure stays
high while btd's wall-clock rate drops: the script also prints btd's MiB per CPU second (its
efficiency, load-independent) and how many cores it kept busy.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import bench_common as B
import bench_limits as L
from bench_common import H


def parse_args():
    ap = argparse.ArgumentParser(description="btd hash check vs openssl speed")
    ap.add_argument("--size-mib", type=int, default=1024, help="payload size (default 1024)")
    ap.add_argument("--piece-kib", type=int, default=1024, help="piece length (default 1024)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each kind (default 3)")
    ap.add_argument("--quick", action="store_true", help="256 MiB, 1 run each")
    ap.add_argument("--many", type=int, default=0,
                    help="also: N torrents (size/N each, data present) added to one daemon at "
                         "once; shows how their checks are queued (default 0 = skip)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args()
    if args.quick:
        args.size_mib, args.runs = 256, 1
    return args


def drop_file_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm_file_cache(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(4 * H.MIB):
            pass


def read_rate(path, size):
    """MiB/s of reading the file alone after dropping its pages (the disk's rate here)."""
    drop_file_cache(path)
    t = time.perf_counter()
    warm_file_cache(path)
    return size / H.MIB / (time.perf_counter() - t)


def check_once(torrent, src_dir, size):
    """btd checks everything and exits: wall time and its CPU (user+sys, wait4)."""
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        proc = H.spawn([H.btd_binary(), "--download", torrent, "--download-dir", src_dir,
                        "--listen-port", str(H.free_port()), "--log-level", "info"],
                       stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode != 0 or "pieces present" not in text:
        raise SystemExit(f"btd failed ({proc.returncode}):\n{text[-3000:]}")
    cpu = ru.ru_utime + ru.ru_stime
    return {"wall": wall, "mib_s": size / H.MIB / wall, "cpu": cpu,
            "mib_per_cpu_s": size / H.MIB / max(cpu, 1e-9)}


def many_checks(work, args):
    """N torrents with their data, added one after another to a daemon: every check is
    requested at once. Polls torrent.list every 50 ms: how many checks read at the same time,
    and in which order they finish (the queue runs one long check at a time, newest first)."""
    import bench_daemon as D

    n, each = args.many, max(1, args.size_mib // args.many)
    src = os.path.join(work, "many")
    torrents = []
    filler = H._Filler(17)
    os.makedirs(src)
    for i in range(n):
        path = os.path.join(src, f"m{i:02d}.bin")
        filler.write_file(path, each * H.MIB)
        torrents.append(H.make_torrent(path, [], args.piece_kib * H.KIB,
                                       os.path.join(work, f"m{i:02d}.torrent"))[0])
    daemon = D.Daemon(os.path.join(work, "daemon"), src, "info")
    os.makedirs(daemon.root)
    rpc, _ = daemon.start()
    try:
        start = time.monotonic()
        ids = [rpc.call("torrent.add", {"path": t})["id"] for t in torrents]
        finished, most_reading = [], 0
        while len(finished) < n and time.monotonic() - start < 600:
            rows = rpc.call("torrent.list", {"fields": ["state", "progress"]})
            reading = sum(1 for r in rows if r["state"] == "checking" and r["progress"] > 0)
            most_reading = max(most_reading, reading)
            for r in rows:
                if r["state"] == "seeding" and r["id"] not in finished:
                    finished.append(r["id"])
            time.sleep(0.05)
        took = time.monotonic() - start
        rpc.close()
        daemon.stop()
    finally:
        H.kill_process(daemon.proc)
    order = [ids.index(i) + 1 for i in finished]
    print(f"\n{n} torrents x {each} MiB added at once: all checked in {took:.2f} s "
          f"({n * each / took:.0f} MiB/s); at most {most_reading} read at the same time; "
          f"finished in add order {order} (1 = added first)")


def main():
    args = parse_args()
    H.btd_binary()
    size = args.size_mib * H.MIB
    rows = {"cached": [], "uncached": [], "disk_read": []}
    with H.TempDir(prefix="btd-bench-check-") as work:
        src_dir, content, _, torrent, _ = B.make_payload(work, args, seed=13)
        for run in range(args.runs):
            warm_file_cache(content)
            rows["cached"].append(check_once(torrent, src_dir, size))
            rows["disk_read"].append({"mib_s": read_rate(content, size)})
            drop_file_cache(content)
            rows["uncached"].append(check_once(torrent, src_dir, size))
            print(f"run {run + 1}: cached {rows['cached'][-1]['mib_s']:7.0f} MiB/s   uncached "
                  f"{rows['uncached'][-1]['mib_s']:7.0f} MiB/s   file read alone (uncached) "
                  f"{rows['disk_read'][-1]['mib_s']:7.0f} MiB/s", flush=True)
        if args.many:
            many_checks(work, args)
        limits = L.measure(work, quick=args.quick)
    med = {k: statistics.median(r["mib_s"] for r in v) for k, v in rows.items()}
    per_cpu = statistics.median(r["mib_per_cpu_s"] for r in rows["cached"])
    cores_used = statistics.median(r["cpu"] / r["wall"] for r in rows["cached"])
    print(f"\nmedians over {args.runs} run(s), {args.size_mib} MiB, piece {args.piece_kib} KiB "
          f"(load {os.getloadavg()[0]:.1f}):")
    print(L.describe(limits))
    cached_share = med["cached"] / limits["sha1_cores"]
    print(f"  cached check   {med['cached']:7.0f} MiB/s = {100 * cached_share:.0f} % of openssl "
          f"sha1 x {limits['cores']} cores ({limits['sha1_cores']:.0f}), "
          f"{L.of_limit(med['cached'], limits['sha1_core'])} of one core")
    print(f"  cached check per CPU second {per_cpu:7.0f} MiB = "
          f"{L.of_limit(per_cpu, limits['sha1_core'])} of openssl's rate per core (openssl "
          f"counts CPU time too, so this part does not depend on the load); btd kept "
          f"{cores_used:.2f} cores busy")
    print(f"  uncached check {med['uncached']:7.0f} MiB/s = "
          f"{L.of_limit(med['uncached'], med['disk_read'])} of reading the file alone "
          f"({med['disk_read']:.0f} MiB/s)")
    print(f"  target >= 70 % of openssl x cores (cached): "
          f"{'MET' if cached_share >= 0.7 else 'NOT MET'}")
    if args.json:
        import json
        with open(args.json, "w") as f:
            json.dump({"runs": rows, "medians": med, "limits": limits}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
