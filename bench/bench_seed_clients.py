#!/usr/bin/python3
"""Seeding to every client (issue 9 item 4): btd vs libtorrent as the seeder, with each leecher
client that is installed (libtorrent, Transmission, aria2, rtorrent, qBittorrent).

  /usr/bin/python3 bench/bench_seed_clients.py [--size-mib 256] [--runs 3] [--piece-kib 1024]
                                               [--clients libtorrent,transmission,...]
                                               [--btd PATH] [--quick] [--json FILE]

For each client and run, the btd seeder and the libtorrent seeder take turns (btd, libtorrent,
btd, ...): a fresh opentracker; the client starts into an empty dir on 127.0.0.1 (no
DHT/LSD/PeX/UPnP, no encryption; see tests/integration/leecher_clients.py) and announces; then a fresh seeder process
checks the payload, announces, learns the client from the tracker and connects to it. The time
from the first data on the client's disk until it has the whole payload is taken; every byte
is compared with the source (not timed). Prints the medians per client and
the ratio btd/libtorrent (target: <= 1 for every client). A client that is not installed is
skipped with a message. --quick: 32 MiB, 1 run. See bench/README.md.
"""

import argparse
import os
import shutil
import statistics
import sys
import time

import bench_common as B
import leecher_clients as C  # tests/integration, on the path via bench_common
from bench_common import H
from bench_seed import start_seeder, with_tracker

SEEDERS = ("btd", "libtorrent")


def parse_args():
    ap = argparse.ArgumentParser(description="btd vs libtorrent seeding to every client")
    B.add_common_args(ap, "client and seeder")
    ap.add_argument("--clients", default=",".join(c.name for c in C.ALL),
                    help="leecher clients to try (default: all of them)")
    ap.add_argument("--btd", default=None, help="btd binary to seed with (default: BTD_BIN or "
                                                 "build/daemon/btd)")
    ap.add_argument("--quick", action="store_true", help="32 MiB, 1 run")
    args = ap.parse_args()
    if args.size_mib == 1024 and "--size-mib" not in sys.argv:
        args.size_mib = 256
    if args.quick:
        args.size_mib, args.runs = 32, 1
    if args.btd:
        os.environ["BTD_BIN"] = os.path.abspath(args.btd)
    return args


def usable_clients(names):
    clients = []
    for name in names.split(","):
        client = C.BY_NAME.get(name.strip())
        if client is None:
            raise SystemExit(f"unknown client '{name}'; known: {', '.join(C.BY_NAME)}")
        why = client.missing()
        if why:
            print(f"skipping {client.name}: {why}", flush=True)
            continue
        clients.append(client)
    return clients


def run_one(client, seeder_kind, work, base_torrent, src_dir, info_hash, timeout):
    """Seconds the client took to get everything from a fresh seeder of `seeder_kind`, from its
    first data on disk."""
    dl_dir = os.path.join(work, "dl")
    shutil.rmtree(dl_dir, ignore_errors=True)
    os.makedirs(dl_dir)
    with H.Tracker([info_hash]) as tracker:
        torrent = with_tracker(base_torrent, os.path.join(work, "run.torrent"), tracker.http_url)
        wall, seeder = C.download(client, torrent, dl_dir, work, tracker, info_hash,
                                  lambda: start_seeder(seeder_kind, torrent, src_dir)[0],
                                  timeout)
        alive = seeder.proc.poll() is None
        seeder.stop()
        if not alive:
            raise SystemExit(f"the {seeder_kind} seeder exited during the run")
    H.compare_trees(os.path.join(src_dir, B.PAYLOAD_NAME),
                    os.path.join(dl_dir, B.PAYLOAD_NAME))  # raises on any difference
    shutil.rmtree(dl_dir, ignore_errors=True)
    return wall


def main():
    args = parse_args()
    clients = usable_clients(args.clients)
    if not clients:
        raise SystemExit("no leecher client installed")
    H.btd_binary()  # fail early with a clear message
    print(f"btd: {H.btd_binary()}", flush=True)
    times = {c.name: {s: [] for s in SEEDERS} for c in clients}
    failures = []
    with H.TempDir(prefix="btd-bench-seed-clients-") as tmp:
        work = args.workdir or tmp
        os.makedirs(work, exist_ok=True)
        src_dir, _, _, base_torrent, info_hash = B.make_payload(work, args, seed=13)
        for run in range(args.runs):
            for client in clients:
                for seeder in SEEDERS:
                    try:
                        wall = run_one(client, seeder, work, base_torrent, src_dir, info_hash,
                                       args.timeout)
                    except C.ClientFailed as e:
                        failures.append(f"run {run + 1} {client.name} from {seeder}: {e}")
                        print(f"run {run + 1} {client.name:<12} from {seeder:<10} FAILED: {e}",
                              flush=True)
                        continue
                    times[client.name][seeder].append(wall)
                    print(f"run {run + 1} {client.name:<12} from {seeder:<10} {wall:7.2f} s "
                          f"{args.size_mib / wall:7.1f} MiB/s  (load {os.getloadavg()[0]:.1f})",
                          flush=True)
    report(args, clients, times, failures)
    return 1 if failures else 0


def report(args, clients, times, failures):
    print(f"\nmedians over {args.runs} run(s), {args.size_mib} MiB, piece {args.piece_kib} KiB "
          f"(seconds from the client's first data to all of it; lower is better):")
    print(f"{'client':<14}{'from btd':>10}{'from lt':>10}{'btd/lt':>8}")
    summary = {}
    for client in clients:
        t = times[client.name]
        if not t["btd"] or not t["libtorrent"]:
            print(f"{client.name:<14}{'(no complete pair of runs)':>28}")
            continue
        b, lt = statistics.median(t["btd"]), statistics.median(t["libtorrent"])
        summary[client.name] = {"btd": b, "libtorrent": lt, "ratio": b / lt, "runs": t}
        print(f"{client.name:<14}{b:10.2f}{lt:10.2f}{b / lt:8.2f}")
    for f in failures:
        print("failed:", f.splitlines()[0])
    if args.json:
        import json
        with open(args.json, "w") as f:
            json.dump({"size_mib": args.size_mib, "runs": args.runs, "btd": H.btd_binary(),
                       "clients": summary, "failures": failures, "time": time.time()}, f,
                      indent=2)


if __name__ == "__main__":
    sys.exit(main())
